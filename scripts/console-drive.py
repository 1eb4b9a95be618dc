#!/usr/bin/env python3
"""console-drive.py - type commands at a guest's shell prompt, as a person would.

    scripts/console-drive.py [--prompt REGEX] [--timeout S] --run 'CMDS' -- PROGRAM [ARG...]

Runs PROGRAM (scripts/demo.sh's boot command) on a pseudo-terminal, so that it
sees a terminal exactly as in an interactive session, and copies everything it
prints to standard output. When the guest's shell prompt appears, it types the
line CMDS, then `echo DEMO-STATUS=$?` to learn that line's exit status, and
then `poweroff -f`. Each key goes through the same path as a keystroke: the
terminal, the emulated KVM host's serial port when there is one, minivmm's
console and the guest's UART.

Exit status: PROGRAM's own when it is not 0; else 1 when CMDS failed (its
status is printed), 124 when the time limit passed, 0 otherwise.
"""
import argparse
import os
import pty
import re
import select
import signal
import sys
import time

STATUS = re.compile(rb"DEMO-STATUS=(\d+)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    # busybox sh's prompt is "/ # " (the working folder, then #), and its line
    # editor may follow it with ESC [6n, a query of the cursor position
    ap.add_argument("--prompt", default=r"[/~][^\n]* # (\x1b\[6n)?$",
                    help="regex matching the end of the shell prompt")
    ap.add_argument("--timeout", type=float, default=1200.0, help="seconds for the whole run")
    ap.add_argument("--run", required=True, help="the command line to type")
    ap.add_argument("argv", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    argv = a.argv[1:] if a.argv[:1] == ["--"] else a.argv
    if not argv:
        ap.error("no program to run")
    prompt = re.compile(a.prompt.encode(), re.M)

    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)

    deadline = time.monotonic() + a.timeout
    out = bytearray()   # what the program printed since the last step
    step = 0            # prompts seen: 0 none, 1 CMDS typed, 2 status asked; 3 powering off
    demo_status = None

    def type_line(line):
        # one key at a time, like a typist: a serial line takes bytes at its own pace
        for ch in line.encode() + b"\r":
            os.write(fd, bytes([ch]))
            time.sleep(0.01)

    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            sys.stdout.write("\nconsole-drive: no result within %.0f s; stopping\n" % a.timeout)
            os.kill(pid, signal.SIGTERM)
            time.sleep(2)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return 124
        r, _, _ = select.select([fd], [], [], min(left, 1.0))
        if not r:
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:     # EIO: the program closed the terminal (it ended)
            data = b""
        if not data:
            break
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        out += data.replace(b"\r", b"")
        if step < 2 and prompt.search(out):
            # the next line is typed only at the next prompt, so that what
            # CMDS prints is not mixed with the echo of the keys typed after it
            out.clear()
            type_line(a.run if step == 0 else "echo DEMO-STATUS=$?")
            step += 1
        elif step == 2:
            m = STATUS.search(out)
            if m:
                demo_status = int(m.group(1))
                out.clear()
                type_line("poweroff -f")
                step = 3
    _, st = os.waitpid(pid, 0)
    rc = os.waitstatus_to_exitcode(st)
    if rc != 0:
        sys.stdout.write("\nconsole-drive: the program ended with status %d\n" % rc)
        return rc if rc > 0 else 128 - rc
    if demo_status is None:
        sys.stdout.write("\nconsole-drive: the guest's prompt or the command's status never came\n")
        return 1
    if demo_status != 0:
        sys.stdout.write("\nconsole-drive: '%s' ended with status %d in the guest\n" % (a.run, demo_status))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
