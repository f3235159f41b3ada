import assert from "node:assert/strict";
import type { ServiceDefinition } from "./definition.ts";
import {
  renderWindowsTask,
  utf16le,
  windowsCommandLine,
  type WindowsTaskInputs,
  windowsTaskName,
  windowsTaskScript,
} from "./windows.ts";

const DEFINITION: ServiceDefinition = {
  name: "web",
  label: "web",
  endpoint: "http://localhost:3000",
  project: "infra",
  session: "s",
  api_host: "api.datum.net",
  scope: "user",
  created_at: "",
  created_by: "",
};

const INPUTS: WindowsTaskInputs = {
  definition: DEFINITION,
  command: {
    command: "C:\\Program Files\\deno\\deno.exe",
    args: ["run", "-A", "--quiet", "C:\\src dir\\main.ts"],
  },
  environment: { HOME: "C:\\Users\\it's me" },
  logDir: "C:\\Users\\me\\AppData\\Local\\datumctl\\logs",
  userId: "DESKTOP\\me",
};

/** CommandLineToArgvW's splitting rules, to check {@link windowsCommandLine} round-trips. */
function splitWindows(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === " ") i++;
    if (i >= line.length) break;
    let arg = "";
    let quoted = false;
    while (i < line.length) {
      const ch = line[i];
      if (ch === "\\") {
        let slashes = 0;
        while (line[i] === "\\") {
          slashes++;
          i++;
        }
        if (line[i] === '"') {
          arg += "\\".repeat(Math.floor(slashes / 2));
          if (slashes % 2) {
            arg += '"';
            i++;
          }
        } else arg += "\\".repeat(slashes);
        continue;
      }
      if (ch === '"') {
        quoted = !quoted;
        i++;
        continue;
      }
      if (ch === " " && !quoted) break;
      arg += ch;
      i++;
    }
    out.push(arg);
  }
  return out;
}

Deno.test("windows command lines split back into the same argv", () => {
  const cases = [
    ["run", "-A"],
    ["C:\\a b\\main.ts", ""],
    ['say "hi"', "ends\\", "dir\\ with space\\"],
  ];
  for (const argv of cases) assert.deepEqual(splitWindows(windowsCommandLine(argv)), argv);
});

Deno.test("task names and the supervisor loop", () => {
  assert.equal(windowsTaskName("system", "web"), "\\datumctl\\datumctl-connect-system-web");
  const script = windowsTaskScript(INPUTS);
  assert.match(script, /'HOME', 'C:\\Users\\it''s me'/);
  assert.match(script, /-FilePath 'C:\\Program Files\\deno\\deno\.exe'/);
  assert.match(
    script,
    /-ArgumentList 'run -A --quiet "C:\\src dir\\main\.ts" tunnel run --name web'/,
  );
  assert.match(script, /@\(0, 64, 65, 77, 78\) -contains \$p\.ExitCode/);
  assert.match(script, /\[Math\]::Min\(\$delay \* 2, 60\)/);
});

Deno.test("the task XML: logon trigger for users, boot as SYSTEM for --system, encoded loop", () => {
  const user = renderWindowsTask(INPUTS);
  assert.match(user, /<LogonTrigger>\s*<Enabled>true<\/Enabled>\s*<UserId>DESKTOP\\me<\/UserId>/);
  assert.match(user, /<LogonType>InteractiveToken<\/LogonType>/);
  assert.match(user, /<ExecutionTimeLimit>PT0S<\/ExecutionTimeLimit>/);
  const encoded = user.match(/-EncodedCommand ([A-Za-z0-9+/=]+)</)![1];
  const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
  assert.equal(new TextDecoder("utf-16le").decode(bytes), windowsTaskScript(INPUTS));
  const comment = user.slice(user.indexOf("<!--") + 4, user.indexOf("-->"));
  assert.doesNotMatch(comment, /--/, "an XML comment cannot contain --");

  const system = renderWindowsTask({
    ...INPUTS,
    definition: { ...DEFINITION, scope: "system" },
    userId: undefined,
  });
  assert.match(system, /<BootTrigger>/);
  assert.match(system, /<UserId>S-1-5-18<\/UserId>/);
  assert.doesNotMatch(system, /LogonTrigger/);
});

Deno.test("utf16le writes a byte-order mark when asked", () => {
  assert.deepEqual([...utf16le("A", true)], [0xff, 0xfe, 0x41, 0x00]);
  assert.deepEqual([...utf16le("é")], [0xe9, 0x00]);
});
