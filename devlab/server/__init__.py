"""The instructor's side of the workshop: what the server's tests, benchmarks and the demo run
it with (PostgreSQL and gunicorn, valid reports, enrolled and seeded classes, a simulated LMS,
a classroom set up with the real ``grade-server``)."""
