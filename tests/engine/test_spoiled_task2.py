"""Task 2's checks on a real engine, beyond its declared spoilers: variants that must still
pass, and spoils that need a ``grade`` option or more than one message to assert.

Each spoiled step of the lab is a declared spoiler (checks/docker_beginners/spoilers.py),
proved by ``grade lab selftest`` in tests/engine/test_lab_selftest.py.
"""

from __future__ import annotations

import pytest

from devlab.model_student import TWEET_DOCKERFILE
from tests.engine.spoil import assert_only

pytestmark = pytest.mark.engine

RUN_TWEET = (
    "docker container run --detach --publish 80:80 --name linux_tweet_app "
    "$DOCKERID/linux_tweet_app:1.0"
)


def restore_tweet_container(student) -> None:
    student.sh("docker container rm --force linux_tweet_app")
    student.step_2_3()


def test_dockerfile_missing_instructions(completed_lab, grade) -> None:
    dockerfile = completed_lab.tweet_app / "Dockerfile"
    dockerfile.write_text(
        'from nginx:latest\ncopy index.html /usr/share/nginx/html\n# EXPOSE 80 443\nCMD ["nginx"]\n'
    )
    try:
        graded = grade("--json")
        assert_only(graded, {"tweet.dockerfile"})
        message = graded.message("tweet.dockerfile")
        for problem in ("no COPY of linux.png", "no EXPOSE 80", "does not run nginx -g"):
            assert problem in message
        assert "index.html" not in message.split(":", 1)[1]
    finally:
        dockerfile.write_text(TWEET_DOCKERFILE)


def test_dockerfile_written_another_way_counts(completed_lab, grade) -> None:
    dockerfile = completed_lab.tweet_app / "Dockerfile"
    dockerfile.write_text(
        "# today's upstream clone\nFROM nginx:1.23.0\n\n"
        "COPY index.html \\\n     linux.png /usr/share/nginx/html/\n"
        "EXPOSE 80 443 \t\n"
        "cmd nginx -g 'daemon off;'\n"
    )
    try:
        assert_only(grade("--json"), set())
    finally:
        dockerfile.write_text(TWEET_DOCKERFILE)


def test_no_tweet_app_folder(completed_lab, grade, tmp_path) -> None:
    graded = grade("--json", "--tweet-app", str(tmp_path / "nowhere"))
    assert_only(
        graded,
        {"tweet.dockerfile", "tweet.serves"},
        tweet_dockerfile="found no Dockerfile at",
        tweet_serves="cannot compare the page",
    )


def test_image_not_built_from_the_dockerfile(completed_lab, engine, grade) -> None:
    """The student tagged plain nginx instead of building: nginx's EXPOSE 80 and CMD don't count."""
    built = engine.api.inspect_image("modelstudent/linux_tweet_app:1.0")["Id"]
    completed_lab.sh("docker image tag nginx:latest $DOCKERID/linux_tweet_app:2.0")
    completed_lab.sh("docker image rm --force $DOCKERID/linux_tweet_app:1.0")  # untags only
    try:
        graded = grade("--json")
        assert_only(graded, {"tweet.image"}, tweet_image="was not built from your Dockerfile")
        assert "no COPY into /usr/share/nginx/html" in graded.message("tweet.image")
        assert "443/tcp" in graded.message("tweet.image")
    finally:
        completed_lab.sh(f"docker image tag {built} $DOCKERID/linux_tweet_app:1.0")
        completed_lab.sh("docker image rm $DOCKERID/linux_tweet_app:2.0")


def test_wrong_docker_id(completed_lab, grade) -> None:
    graded = grade("--json", "--dockerid", "someoneelse")
    assert_only(
        graded,
        {"tweet.image", "tweet.published"},
        tweet_image="found modelstudent/linux_tweet_app:1.0 but no someoneelse/linux_tweet_app",
    )


def test_plain_linux_tweet_app_tag_counts(completed_lab, engine, grade) -> None:
    """The lab repository's README builds a plain linux_tweet_app tag."""
    completed_lab.sh("docker image build --tag linux_tweet_app .", cwd=completed_lab.tweet_app)
    completed_lab.sh("docker container rm --force linux_tweet_app")
    completed_lab.sh(
        "docker container run --detach --publish 80:80 --name linux_tweet_app linux_tweet_app"
    )
    completed_lab.sh("docker image rm --force $DOCKERID/linux_tweet_app:1.0")
    try:
        assert_only(grade("--json"), set())
    finally:
        completed_lab.step_2_2()
        restore_tweet_container(completed_lab)
        completed_lab.sh("docker image rm linux_tweet_app")
