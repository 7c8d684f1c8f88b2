"""One module per CLI verb: typed functions that grader.cli calls after parsing flags."""
