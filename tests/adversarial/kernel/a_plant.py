# attack: leave kernel objects of its uid (keys in its keyrings, System V shared memory, a
#         message queue, a semaphore set, a POSIX message queue) for the next student
# ruff: noqa

def _plant_all():
    planted = plant_keys() + plant_sysv() + plant_mq()
    print("PLANTED " + " ".join(planted), flush=True)
    return planted


# (the grader keeps what the graded functions use: relu uses PLANTED)
PLANTED = _plant_all()


def relu(x):
    return np.zeros_like(np.asarray(x, dtype=float)) + 0 * len(PLANTED)
