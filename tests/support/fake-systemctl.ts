/**
 * A fake `systemctl` to put first on PATH: no systemd manager runs in a container, so the
 * tunnel-service tests record its argv instead and make it fail on request
 * (`FAKE_SYSTEMCTL_FAIL=enable`). `--version` is answered by the real systemctl, so units are
 * rendered for the systemd that `systemd-analyze` verifies them with.
 */

const SCRIPT = `#!/bin/sh
echo "$*" >> "$FAKE_SYSTEMCTL_LOG"
if [ "$1" = "--version" ]; then exec /usr/bin/systemctl --version; fi
if [ -n "$FAKE_SYSTEMCTL_FAIL" ]; then
  case " $* " in
    *" $FAKE_SYSTEMCTL_FAIL "*) echo "Failed to $FAKE_SYSTEMCTL_FAIL unit: simulated" >&2; exit 1;;
  esac
fi
case " $* " in
  *" show "*) printf 'ActiveState=active\\nSubState=running\\nMainPID=4242\\nResult=success\\nExecMainStatus=0\\n';;
esac
exit 0
`;

/** A fake systemctl: its folder (for PATH), its call log (`FAKE_SYSTEMCTL_LOG`), the calls. */
export interface FakeSystemctl {
  bin: string;
  log: string;
  calls(): Promise<string[]>;
}

/** Writes a fake systemctl into a fresh folder. */
export async function fakeSystemctl(): Promise<FakeSystemctl> {
  const bin = await Deno.makeTempDir({ prefix: "fake-systemctl-" });
  await Deno.writeTextFile(`${bin}/systemctl`, SCRIPT, { mode: 0o755 });
  await Deno.chmod(`${bin}/systemctl`, 0o755);
  const log = `${bin}/calls.log`;
  return {
    bin,
    log,
    calls: async () => {
      try {
        return (await Deno.readTextFile(log)).split("\n").filter(Boolean);
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) return [];
        throw err;
      }
    },
  };
}
