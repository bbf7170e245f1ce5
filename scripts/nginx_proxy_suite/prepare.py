"""Rewrites the compose files of nginx-proxy's extracted test folder for this machine.

Usage: python3 prepare.py TEST_DIR ENGINE_SOCKET

- the Docker socket the files mount (/var/run/docker.sock) becomes ENGINE_SOCKET: the suite's
  engine is not the system's, and a missing host path would be created as a directory;
- published ports are dropped: pytest reaches every container at its own address, and ports
  such as 80, 443 or 8080 published on the host could take another program's;
- `build:` entries (test_build, out of scope) stay as they are.

Only the extracted copy is changed. YAML anchors are expanded (the files stay equivalent).
"""
import pathlib
import sys

import yaml

SOCKET = "/var/run/docker.sock"


def rewrite(doc, socket):
    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, dict):
        return doc
    for service in services.values():
        if not isinstance(service, dict):
            continue
        service.pop("ports", None)
        volumes = service.get("volumes")
        if isinstance(volumes, list):
            service["volumes"] = [
                v.replace(SOCKET + ":", socket + ":", 1)
                if isinstance(v, str) and v.startswith(SOCKET + ":") else v
                for v in volumes
            ]
    return doc


def main():
    test_dir, socket = pathlib.Path(sys.argv[1]), sys.argv[2]
    count = 0
    for path in sorted(test_dir.rglob("*.yml")):
        text = path.read_text()
        if SOCKET not in text and "ports:" not in text:
            continue
        doc = yaml.safe_load(text)
        path.write_text(yaml.safe_dump(rewrite(doc, socket), sort_keys=False))
        count += 1
    print(f"prepare: {count} compose files rewritten (socket {socket}, no published ports)")


if __name__ == "__main__":
    main()
