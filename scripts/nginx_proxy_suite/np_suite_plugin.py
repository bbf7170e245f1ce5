"""pytest plugin loaded by scripts/nginx_proxy_suite.sh (`-p np_suite_plugin`) into nginx-proxy's
own suite, for what this machine lacks:

- pytest-ignore-flaky is not packaged by Debian: its `flaky` marker and `--ignore-flaky` option
  are registered here, and do nothing (a flaky test runs and counts as any other);
- conftest.py waits for "Watching docker events" (docker-gen's line) in the proxy's log with no
  bound; lbsync says `watching` instead. The wait is replaced by one for either line, bounded by
  NP_SUITE_READY_S (default 30 s), after which the test goes on (and fails if nothing answers);
- conftest.py's report of a failure reads /etc/nginx/conf.d/default.conf from every proxy
  container, and a proxy that never started (compose up failed) has none: the error stopped the
  whole session. Such a container's section says so instead.
"""
import logging
import os
import sys
import threading

READY_LINES = (b"Watching docker events", b"watching")


def pytest_addoption(parser):
    parser.addoption("--ignore-flaky", action="store_true", default=False,
                     help="accepted for pytest-ignore-flaky's sake; does nothing here")


def pytest_configure(config):
    config.addinivalue_line("markers", "flaky: pytest-ignore-flaky's marker (no effect here)")


def _bounded_wait(docker_client, timeout):
    def wait():
        containers = docker_client.containers.list(
            filters={"status": "running", "ancestor": "nginxproxy/nginx-proxy:test"})
        for container in containers:
            done = threading.Event()

            def follow():
                try:
                    for line in container.logs(stream=True):
                        if any(r in line for r in READY_LINES):
                            break
                finally:
                    done.set()

            threading.Thread(target=follow, daemon=True).start()
            if not done.wait(timeout):
                logging.warning(f"{container.name}: not ready within {timeout} s; going on")
    return wait


def _tolerant_conf(read):
    def get_conf(container):
        try:
            return read(container)
        except Exception as e:  # docker.errors.NotFound, from a container that never ran
            return f"(no configuration in {container.name}: {e})".encode()
    return get_conf


def pytest_collection(session):
    # the suite's conftest.py is imported by now (as `conftest`, from its rootdir)
    timeout = float(os.environ.get("NP_SUITE_READY_S", "30"))
    for module in list(sys.modules.values()):
        if getattr(module, "wait_for_nginxproxy_to_be_ready", None) and \
                getattr(module, "docker_client", None):
            module.wait_for_nginxproxy_to_be_ready = _bounded_wait(module.docker_client, timeout)
            module.get_nginx_conf_from_container = _tolerant_conf(
                module.get_nginx_conf_from_container)
