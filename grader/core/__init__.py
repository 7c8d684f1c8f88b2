"""The floor every other package stands on: errors, results, course, settings, text, files.

Imports nothing of the grader above it."""
