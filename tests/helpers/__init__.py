"""What several test modules share (a test module never imports another test module).

    browser            headless Chromium: render a report page and check it
    bundle             ``grade release`` as an instructor runs it, stubs filled with solutions
    course_copy        a copy of the course, the example `halve`, `grade` run in that copy
    github_outputs     parse ``$GITHUB_OUTPUT`` heredocs
    gradescope_schema  Gradescope's results.json schema
    hostile_corpus     a class of hostile notebooks and names (tests and bench/hostile.py)
    lms_layouts        class folders as Canvas, Moodle, Gradescope and git hand them over
    notebook_corpus    notebooks saved by real tools, for the self-check's agreement
    notebook_files     write a notebook cell by cell
    report_text        control characters, formulas, markup outside code fences
    similarity_corpus  classes of rewritten solutions (tests and bench/similarity.py)
    suite_harness      grade a file against a hidden suite in-process
"""
