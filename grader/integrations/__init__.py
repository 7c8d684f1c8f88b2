"""Each platform in one place: CI (push grading), Gradescope, Classroom 50, the runner's records."""
