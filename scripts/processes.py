"""Process helpers shared by the measuring scripts (bench_run.py, hostile_run.py)."""
import signal
import subprocess


def stop(process, timeout=15):
    """SIGTERM, then SIGKILL if the process has not exited within `timeout` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
