"""Gradescope: the autograder zip (``grade gradescope``) and what it runs per submission.

    config.py    autograder.json: the choices made when the zip was built (plain data)
    bundle.py    the zip: setup.sh, run_autograder, the grader's source, the course's files
    unpack.py    a student's upload, copied and unzipped safely into a staging folder
    results.py   Gradescope's results.json for one upload (and for a grader failure)
    autograde.py what run_autograder does: unpack, grade as ``grade`` would, write results
"""
