"""One module per CLI verb: typed functions that grader.cli.main calls after parsing flags."""
