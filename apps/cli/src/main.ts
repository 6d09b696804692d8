#!/usr/bin/env node
import { runCli } from './cli';

// Ctrl+C during a watch stops following (the run goes on) and says how to look again; any other command ends soon
// after. `up` handles its own signals: it must stop the services it started.
const interrupt = new AbortController();
if (process.argv[2] !== 'up') {
  process.once('SIGINT', () => {
    interrupt.abort();
    setTimeout(() => process.exit(130), 1000).unref();
  });
}

runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  tty: process.stdout.isTTY === true,
  columns: process.stdout.columns,
  rows: process.stdout.rows,
  signal: interrupt.signal,
}).then((code) => {
  process.exitCode = code;
});
