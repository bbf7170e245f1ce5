/** The text of `lbsync --help`. */
export const HELP = `lbsync: keep nginx or HAProxy backends in step with Docker containers

Usage:
  lbsync render  [options]   discover, render, write if changed, check, reload, exit
  lbsync watch   [options]   the same, then follow events until SIGTERM / SIGINT
  lbsync explain [options]   every candidate container: in, backup, conflict, idle or out,
                             and why
  lbsync route URL [options] the service, route and servers a request to URL reaches
                             (http://HOST[:PORT]/PATH, tcp://:PORT), by the rules both
                             balancers follow
  lbsync --help | --version

Sources (default: DOCKER_HOST, else unix:///var/run/docker.sock):
  --docker URL              a Docker Engine: unix:///path, tcp://h:p, http://, https://;
                            repeatable (containers of every engine are merged)
  --tls-ca, --tls-cert, --tls-key FILE
                            TLS files (default: DOCKER_TLS_VERIFY and DOCKER_CERT_PATH)
  --allow-partial           render from the engines that answered when others fail
  --swarm                   the engines are Swarm managers: services' running tasks are
                            the backends (labels on the service); watch resyncs every 5s
  --swarm-vip               the same, one server per service: its virtual IP
  --from-file PATH          Docker API JSON (docker inspect, /containers/json); - = stdin;
                            repeatable

Selection:
  --match REGEX             containers whose name matches are candidates; the named group
                            (?<service>...) names the service
  --match-image REGEX       containers whose image reference matches are candidates; the
                            named group (?<service>...) names the service
  --service NAME            the one service of a --match or --match-image without a named
                            group (default match, image); labels still name their own
  --label-prefix P          label prefix (default lbsync)
  --name-prefix P           prefix of every upstream and backend name lbsync generates
                            (default lbsync_), so no label can name the operator's own
  --include-unhealthy       keep containers whose Docker health is starting or unhealthy
  --compat nginx-proxy      VIRTUAL_HOST, VIRTUAL_PORT, VIRTUAL_PATH in a container's
                            environment stand for labels (one inspect per new container)

Readiness and rollover:
  --ready-timeout DUR       a container whose service has lbsync.health enters the pool
                            once GET http://ADDRESS:PORT/PATH answers 2xx (tcp: a connect);
                            render waits up to DUR for new ones (default 10s)
  --rollover                every service rolls over: only its newest ready container serves
                            (per service: lbsync.rollover=true)
  --retire-after DUR        watch: stop containers retired by a rollover after DUR

Addresses:
  --address network|published
                            container IP on its network (default), or host IP and
                            published port
  --network NAME            network whose IP to use when a container has several
  --host-ip IP              host IP for published ports and host-network containers
  --listen PORT             port http services listen on (default 80)
  --listen-address IP       address the balancer binds (default: every address)

Targets (pairs, repeatable):
  -t, --template NAME|PATH  built-in nginx, nginx-stream, haproxy, or a Mustache file
  -o, --output PATH|-       where the output goes; - prints it (default)

Applying:
  --check-cmd CMD           validate: {} = the candidate file, checked before the swap;
                            without {}, after it, and a failure restores the old files
  --reload-cmd CMD          run once after a changed, checked apply
  --signal-container NAME[:SIGNAL]
                            signal a container through the Docker API instead (SIGHUP)
  --backup-dir DIR          copy replaced files here first
  --keep-backups N          newest backups kept per file (default 10)
  --dry-run                 write nothing; print a unified diff against the live files
  --command-timeout DUR     bound for check and reload commands (default 30s)
  --lock-timeout DUR        wait for another run's lock at most this long (default 30s)
  --connect-timeout DUR     how long the balancer tries to connect to a server before it
                            tries another (default 1s): a vanished container sends no reset
  --confirm-timeout DUR     after a reload, wait this long for the balancer to serve the new
                            file's generation (built-in templates); still the old one: the
                            apply fails (default 10s; 0: do not wait)
  --config FILE             JSON with the same settings and several targets
  --haproxy-socket PATH     haproxy targets: declare a runtime API socket and apply changes
                            of servers only through it, without a reload
  --drain-timeout DUR       a server removed through it is deleted once its connections are
                            gone, or after DUR (default 10s)
  --nginx-dns ADDR          watch: answer nginx's resolver for SERVICE.lbsync.internal, so
                            the nginx templates find services by name and server changes
                            need no reload (PORT binds 127.0.0.1)

Watch:
  --heartbeat MIN[:MAX]     a batch of events closes MIN after the last event or MAX after
                            the first (default 500ms:2s)
  --resync DUR              full re-list every DUR (default 60s; 0: never)
  --since TIME              start the event streams at TIME (unix seconds, RFC 3339, or a
                            duration ago such as 10m)
  --status-listen ADDR      serve GET /healthz, /status, /metrics and POST /resync on ADDR
                            (PORT or HOST:PORT; a bare port binds 127.0.0.1)

Output:
  --format text|json        explain output (default text)
  --log-format text|json    log lines on stderr (default text)
  -q, --quiet               errors only
  -v, --verbose             every skipped container, each write, stack traces

Exit codes: 0 success (changed or not), 1 failure at run time, 2 usage or configuration error.
`;
