"""Which submissions share code beyond the stub (``grade similarity``), for the instructor.

    code.py         a submission's graded code in canonical order; the boilerplate texts
    fingerprint.py  copydetect's winnowing fingerprints, and fast pair overlap
    analyse.py      one assignment: every pair of students scored, the top pairs' regions
    pool.py         assignments analysed in worker processes with a fixed hash seed
    wire.py         a worker's result as JSON
    report.py       similarity.csv (formula-safe cells) and similarity.html (Jinja2)

The modules need copydetect (``pip install 'nn-grader[similarity]'``); this one does not, so
``grade release`` can name what it must never ship without it.
"""

#: In similarity.html; the student bundle's leak scan refuses any file holding it.
REPORT_MARKER = "nn-grader similarity report (instructor only)"
CSV_COLUMNS = ("assignment", "student_a", "student_b", "score", "rank", "share_a", "share_b",
               "shared_lines_a", "shared_lines_b", "file_a", "file_b")
#: similarity.csv's first line; the leak scan refuses a file starting with it.
CSV_HEADER = ",".join(CSV_COLUMNS)
