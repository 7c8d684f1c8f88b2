"""The student bundle (``grade release``) and the grader modules it ships."""
