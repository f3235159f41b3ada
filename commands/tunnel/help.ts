/**
 * The tables of the tunnel commands' help: the exit codes (printed once, at the end of
 * `tunnel --help`, with one line pointing at it in each subcommand's help) and the
 * environment `tunnel listen` reads.
 */

/** The tunnel commands' exit-code table, printed once: at the end of `tunnel --help`. */
export const EXIT_CODE_TABLE = `
Exit codes (sysexits, the same for every tunnel command):
  0    success; also a clean Ctrl-C/SIGTERM stop (the tunnel is disabled first)
  1    generic runtime error (e.g. no project selected anywhere)
  2    misuse: invalid flag or value, missing or conflicting options, nothing to choose
       without a terminal
  64   rejected on meaning: no such tunnel, --id and --endpoint disagree, a name already
       served or installed, a tunnel deleted on the server, a project that does not exist
  65   data error: a malformed local file (listen_key, state.yml, endpoint.yml, a service
       definition) or server answer; the file is left as it is
  69   service unavailable: control plane unreachable or failing (retryable)
  75   temporary failure: still provisioning or not yet reachable within --timeout, or a
       stop still in progress (retryable)
  77   permission denied: not logged in, login expired or revoked, not allowed in the
       project, --system without root
  78   configuration: install --system without a service-account session, no service
       definition or service manager, iroh DNS owned by another Connector
       (DeferredToOwner), no tunnel engine for this platform
A supervisor should restart on 69 and 75 and stop on 64, 65, 77 and 78.`;

/** The one line every tunnel subcommand's help ends with, pointing at the table. */
export const EXIT_CODES = `
Exit codes: see 'datumctl tunnel --help' (restart on 69 and 75; stop on 64, 65, 77, 78).`;

/** The environment variables `tunnel listen` reads, shown in its help. */
export const ENVIRONMENT = `
Environment:
  DATUM_PROJECT                 the project for one command (like --project)
  DATUM_CONNECT_REPO            data folder shared with datum-connect (like --repo)
  DATUM_CONNECT_RELAY_URLS      iroh relays to use instead of Datum's (comma/space separated)
  DATUMCTL_TUNNEL_RELAY         datum | disabled | relay URLs; wins over the above. Relays are
                                disabled by default when the API is on a loopback address
  DATUMCTL_TUNNEL_BIND          ip:port for the agent's UDP socket
  DATUMCTL_TUNNEL_GATEWAY       send the public-URL check to this local gateway with the
                                tunnel's hostname as Host. Not needed for the local stack: its
                                gateway is found in the HTTPProxy status (.localhost only)
  DATUMCTL_TUNNEL_ALLOWED_PEERS endpoint ids (comma-separated) of the only iroh peers served,
                                like --allow-peer
  DATUM_CONNECT_CREATE_TRAFFIC_PROTECTION_POLICIES=1  also create an OWASP policy per tunnel`;
