#!/bin/sh
# Stand-in for the official nginx image's entrypoint: runs /docker-entrypoint.d/*.sh when
# starting nginx, then execs the command.
set -e

entrypoint_log() {
	if [ -z "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ]; then
		echo "$@"
	fi
}

if [ "$1" = "nginx" ] || [ "$1" = "nginx-debug" ]; then
	if find /docker-entrypoint.d/ -mindepth 1 -maxdepth 1 -type f -print -quit 2>/dev/null | read -r _; then
		entrypoint_log "$0: /docker-entrypoint.d/ is not empty, will attempt to perform configuration"
		for f in $(find /docker-entrypoint.d/ -mindepth 1 -maxdepth 1 -type f -name '*.sh' | sort -V); do
			if [ -x "$f" ]; then
				entrypoint_log "$0: Launching $f"
				"$f"
			else
				entrypoint_log "$0: Ignoring $f, not executable"
			fi
		done
		entrypoint_log "$0: Configuration complete; ready for start up"
	else
		entrypoint_log "$0: No files found in /docker-entrypoint.d/, skipping configuration"
	fi
fi

exec "$@"
