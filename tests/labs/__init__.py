"""Labs that exist only for the tests: proof that a lab is a folder the grader finds by itself."""
