"""Rewrites the compose files of nginx-proxy's extracted test folder for this machine.

Usage: python3 prepare.py TEST_DIR ENGINE_SOCKET [--publish-base]

- the Docker socket the files mount (/var/run/docker.sock) becomes ENGINE_SOCKET: the suite's
  engine is not the system's, and a missing host path would be created as a directory;
- published ports are dropped: pytest reaches every container at its own address, and ports
  such as 80, 443 or 8080 published on the host could take another program's, or still be held
  by the previous test's proxy when the next one starts (its proxy is then never started).
  With --publish-raw-ip, test_raw-ip-vhost alone (it sends its requests to the host's own
  address on the network) gets compose.base.yml's 80 and 443, by a compose.base.override.yml;
- a `$` that starts no variable (`VIRTUAL_HOST: ~^regex.*\.nginx-proxy\.tld$`) becomes `$$`:
  docker compose v2 keeps it as it is, docker-compose v1 (Debian's) refuses the file;
- `build:` entries (test_build, out of scope) stay as they are.

Only the extracted copy is changed. YAML anchors are expanded (the files stay equivalent).
"""
import pathlib
import re
import sys

import yaml

SOCKET = "/var/run/docker.sock"


LONE_DOLLAR = re.compile(r"\$\$|\$(?![{A-Za-z_])")


def escape_dollars(node):
    if isinstance(node, str):
        return LONE_DOLLAR.sub(lambda m: "$$", node)
    if isinstance(node, list):
        return [escape_dollars(v) for v in node]
    if isinstance(node, dict):
        return {k: escape_dollars(v) for k, v in node.items()}
    return node


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
    publish_raw_ip = "--publish-raw-ip" in sys.argv[3:]
    count = 0
    for path in sorted(test_dir.rglob("*.yml")):
        doc = escape_dollars(yaml.safe_load(path.read_text()))
        path.write_text(yaml.safe_dump(rewrite(doc, socket), sort_keys=False))
        count += 1
    override = test_dir / "test_raw-ip-vhost" / "compose.base.override.yml"
    if publish_raw_ip and override.parent.is_dir() and not override.exists():
        override.write_text(yaml.safe_dump(
            {"services": {"nginx-proxy": {"ports": ["80:80", "443:443"]}}}, sort_keys=False))
    ports = "80 and 443 for test_raw-ip-vhost" if publish_raw_ip else "none"
    print(f"prepare: {count} compose files rewritten (socket {socket}, published ports: {ports})")


if __name__ == "__main__":
    main()
