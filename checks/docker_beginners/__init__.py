"""The "Docker for beginners" lab: run containers, package an app, commit and build images."""
