#!/usr/bin/env bash
# The baseline for bench/grade_speed: the lab's facts checked the way hosted lab platforms
# write their check scripts, one `docker` CLI call (or one curl/grep) per fact.
# Prints "N passed, M failed". Needs HOME (with linux_tweet_app and hello) and DOCKERID.
set -u
passed=0
failed=0
check() { if eval "$1" >/dev/null 2>&1; then passed=$((passed + 1)); else failed=$((failed + 1)); fi; }

check "docker container ls -a --filter ancestor=alpine --format '{{.Command}} {{.Status}}' | grep -q 'hostname.*Exited (0)'"
check "docker events --since 0 --until \"\$(date +%s)\" --filter image=ubuntu --filter event=destroy | grep -q destroy"
check "test \"\$(docker container inspect -f '{{.State.Running}}' mydb)\" = true"
check "test \"\$(docker container inspect -f '{{.Config.Image}}' mydb)\" = mysql:latest"
check "docker container inspect -f '{{range .Config.Env}}{{println .}}{{end}}' mydb | grep -q '^MYSQL_ROOT_PASSWORD=.'"
check "test \"\$(docker container inspect -f '{{.Config.AttachStdout}}' mydb)\" = false"
check "docker exec mydb sh -c 'mysql --user=root --password=\"\$MYSQL_ROOT_PASSWORD\" --version'"
check "grep -qi '^FROM nginx' \"\$HOME/linux_tweet_app/Dockerfile\""
check "test -n \"\$(docker image ls -q \"\$DOCKERID/linux_tweet_app\")\""
check "test -n \"\$(docker container ls -q --filter publish=80)\""
check "curl -fs http://localhost/ | cmp -s - \"\$HOME/linux_tweet_app/index.html\""
check "test -n \"\$(docker image ls -q ourfiglet)\""
check "! docker image history --no-trunc ourfiglet | grep -q buildkit"
check "docker container run --rm ourfiglet figlet hello | grep -q '|_| |_|'"
check "grep -qi '^FROM alpine' \"\$HOME/hello/Dockerfile\""
check "test -n \"\$(docker image ls -q hello:v0.1)\""
check "docker container run --rm hello:v0.1 | grep -q '^hello from '"
echo "$passed passed, $failed failed"
