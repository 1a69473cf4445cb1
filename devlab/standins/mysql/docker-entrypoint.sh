#!/bin/bash
# Stand-in for the official mysql image's docker-entrypoint.sh, on Debian's MariaDB.
# Same contract: refuse to initialise without a root password option, initialise the data
# directory on first start, then run the server in the foreground as the mysql user.
# It never prints MYSQL_ROOT_PASSWORD: SQL goes to the client on stdin, passwords in a
# defaults file on a pipe.
set -eo pipefail
shopt -s nullglob

mysql_log() {
	local type="$1"
	shift
	local text="$*"
	if [ "$#" -eq 0 ]; then text="$(cat)"; fi
	local dt
	dt="$(date --rfc-3339=seconds)"
	printf '%s [%s] [Entrypoint]: %s\n' "$dt" "$type" "$text"
}
mysql_note() { mysql_log Note "$@"; }
mysql_warn() { mysql_log Warn "$@" >&2; }
mysql_error() {
	mysql_log ERROR "$@" >&2
	exit 1
}

# usage: file_env VAR [DEFAULT]; lets VAR_FILE hold the value, as in the official image.
file_env() {
	local var="$1"
	local fileVar="${var}_FILE"
	local def="${2:-}"
	if [ "${!var:-}" ] && [ "${!fileVar:-}" ]; then
		mysql_error "Both $var and $fileVar are set (but are exclusive)"
	fi
	local val="$def"
	if [ "${!var:-}" ]; then
		val="${!var}"
	elif [ "${!fileVar:-}" ]; then
		val="$(<"${!fileVar}")"
	fi
	export "$var"="$val"
	unset "$fileVar"
}

_is_server() {
	case "$1" in mysqld | mariadbd) return 0 ;; esac
	return 1
}

_want_help() {
	local arg
	for arg; do
		case "$arg" in -'?' | --help | --print-defaults | -V | --version) return 0 ;; esac
	done
	return 1
}

_get_config() {
	local conf="$1"
	shift
	"$@" --verbose --help 2>/dev/null | awk -v conf="$conf" '$1 == conf && /^[^ \t]/ { sub(/^[^ \t]+[ \t]+/, ""); print; exit }'
}

_sql_escape() {
	local newline=$'\n'
	local escaped=${1//\\/\\\\}
	escaped="${escaped//$newline/\\n}"
	echo "${escaped//\'/\\\'}"
}

# A client defaults file on a pipe, so the root password never shows in ps or logs.
_passfile() {
	if [ "${1:-}" != nopass ] && [ -n "$MYSQL_ROOT_PASSWORD" ]; then
		local p="${MYSQL_ROOT_PASSWORD//\\/\\\\}"
		p="${p//\"/\\\"}"
		printf '[client]\npassword="%s"\n' "${p//$'\n'/\\n}"
	fi
}

process_sql() {
	local passfileArgs=()
	if [ "${1:-}" = --dont-use-mysql-root-password ]; then
		passfileArgs+=(nopass)
		shift
	fi
	mariadb --defaults-extra-file=<(_passfile "${passfileArgs[@]}") \
		--protocol=socket --socket="$SOCKET" -uroot -hlocalhost --comments "$@"
}

temp_server_start() {
	"$@" --skip-networking --default-time-zone=SYSTEM --socket="$SOCKET" --wsrep_on=OFF \
		--loose-innodb_buffer_pool_load_at_startup=0 &
	MYSQL_PID=$!
	local i
	for i in {30..0}; do
		if echo 'SELECT 1' | process_sql --dont-use-mysql-root-password --database=mysql \
			>/dev/null 2>&1; then
			break
		fi
		if ! kill -0 "$MYSQL_PID" 2>/dev/null; then
			mysql_error "Unable to start server."
		fi
		sleep 1
	done
	if [ "$i" = 0 ]; then
		mysql_error "Unable to start server."
	fi
}

temp_server_stop() {
	kill "$MYSQL_PID"
	wait "$MYSQL_PID" || true
}

setup_db() {
	local rootPasswordEscaped rootCreate=
	rootPasswordEscaped="$(_sql_escape "$MYSQL_ROOT_PASSWORD")"
	if [ -n "$MYSQL_ROOT_HOST" ] && [ "$MYSQL_ROOT_HOST" != localhost ]; then
		rootCreate="CREATE USER 'root'@'${MYSQL_ROOT_HOST}' IDENTIFIED BY '${rootPasswordEscaped}';
			GRANT ALL ON *.* TO 'root'@'${MYSQL_ROOT_HOST}' WITH GRANT OPTION;"
	fi
	process_sql --dont-use-mysql-root-password --database=mysql <<-EOSQL
		SET @@SESSION.SQL_LOG_BIN=0;
		DROP USER IF EXISTS root@'127.0.0.1', root@'::1';
		EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\'', @@hostname, '\'');
		EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS \'\'@\'', @@hostname, '\'');
		DROP USER IF EXISTS ''@'localhost';
		ALTER USER 'root'@'localhost' IDENTIFIED BY '${rootPasswordEscaped}';
		${rootCreate}
		DROP DATABASE IF EXISTS test;
		FLUSH PRIVILEGES;
	EOSQL

	if [ -n "$MYSQL_DATABASE" ]; then
		mysql_note "Creating database ${MYSQL_DATABASE}"
		process_sql --database=mysql <<<"CREATE DATABASE IF NOT EXISTS \`$MYSQL_DATABASE\`;"
	fi
	if [ -n "$MYSQL_USER" ] && [ -n "$MYSQL_PASSWORD" ]; then
		mysql_note "Creating user ${MYSQL_USER}"
		local userPasswordEscaped
		userPasswordEscaped="$(_sql_escape "$MYSQL_PASSWORD")"
		process_sql --database=mysql <<<"CREATE USER '$MYSQL_USER'@'%' IDENTIFIED BY '$userPasswordEscaped';"
		if [ -n "$MYSQL_DATABASE" ]; then
			mysql_note "Giving user ${MYSQL_USER} access to schema ${MYSQL_DATABASE}"
			process_sql --database=mysql <<<"GRANT ALL ON \`${MYSQL_DATABASE//_/\\_}\`.* TO '$MYSQL_USER'@'%';"
		fi
	fi
}

process_init_files() {
	local f
	for f; do
		case "$f" in
		*.sh)
			mysql_note "$0: running $f"
			# shellcheck disable=SC1090
			. "$f"
			;;
		*.sql)
			mysql_note "$0: running $f"
			process_sql <"$f"
			;;
		*.sql.gz)
			mysql_note "$0: running $f"
			gunzip -c "$f" | process_sql
			;;
		*) mysql_warn "$0: ignoring $f" ;;
		esac
	done
}

_main() {
	# if the command starts with an option, run mysqld with it
	if [ "${1:0:1}" = '-' ]; then
		set -- mysqld "$@"
	fi

	if _is_server "$1" && ! _want_help "$@"; then
		mysql_note "Entrypoint script for MySQL Server (stand-in on $(mariadbd --version | awk '{print $3}')) started."

		DATADIR="$(_get_config datadir "$@")"
		DATADIR="${DATADIR%/}"
		SOCKET="$(_get_config socket "$@")"
		: "${DATADIR:=/var/lib/mysql}" "${SOCKET:=/run/mysqld/mysqld.sock}"

		if [ "$(id -u)" = 0 ]; then
			mkdir -p "$DATADIR" "$(dirname "$SOCKET")"
			find "$DATADIR" "$(dirname "$SOCKET")" \! -user mysql -exec chown mysql:mysql '{}' +
			mysql_note "Switching to dedicated user 'mysql'"
			exec setpriv --reuid=mysql --regid=mysql --init-groups "${BASH_SOURCE[0]}" "$@"
		fi

		if [ ! -d "$DATADIR/mysql" ]; then
			file_env MYSQL_ROOT_PASSWORD
			file_env MYSQL_ROOT_HOST '%'
			file_env MYSQL_DATABASE
			file_env MYSQL_USER
			file_env MYSQL_PASSWORD
			if [ -z "$MYSQL_ROOT_PASSWORD" ] && [ -z "$MYSQL_ALLOW_EMPTY_PASSWORD" ] \
				&& [ -z "$MYSQL_RANDOM_ROOT_PASSWORD" ]; then
				mysql_error <<-'EOF'
					Database is uninitialized and password option is not specified
					    You need to specify one of the following as an environment variable:
					    - MYSQL_ROOT_PASSWORD
					    - MYSQL_ALLOW_EMPTY_PASSWORD
					    - MYSQL_RANDOM_ROOT_PASSWORD
				EOF
			fi
			if [ "$MYSQL_USER" = root ]; then
				mysql_error "MYSQL_USER=\"root\", MYSQL_USER and MYSQL_PASSWORD are for configuring a regular user and cannot be used for the root user"
			fi
			if [ -n "$MYSQL_RANDOM_ROOT_PASSWORD" ]; then
				MYSQL_ROOT_PASSWORD="$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 32)" || true
				export MYSQL_ROOT_PASSWORD
				mysql_note "GENERATED ROOT PASSWORD: $MYSQL_ROOT_PASSWORD"
			fi

			mysql_note "Initializing database files"
			mariadb-install-db --datadir="$DATADIR" --auth-root-authentication-method=normal \
				--skip-test-db --skip-name-resolve --default-time-zone=SYSTEM >/dev/null
			mysql_note "Database files initialized"

			mysql_note "Starting temporary server"
			temp_server_start "$@"
			mysql_note "Temporary server started."
			setup_db
			process_init_files /docker-entrypoint-initdb.d/*
			mysql_note "Stopping temporary server"
			temp_server_stop
			mysql_note "Temporary server stopped"
			echo
			mysql_note "MySQL init process done. Ready for start up."
			echo
		else
			mysql_note "Database files are already present; skipping initialization"
		fi
	fi

	exec "$@"
}

_main "$@"
