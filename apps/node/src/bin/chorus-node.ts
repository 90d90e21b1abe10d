#!/usr/bin/env node
import module from 'node:module'
import { reexecWithAgentNodeFlags } from '../agent/node-flags.js'

// An agent runs with its V8 heap flags, which V8 takes only at start-up: `start` re-executes this
// process with them (same pid) before anything else loads. Any other command that happens to
// carry the word `start` pays one more Node start-up (~50 ms) and runs as before.
if (process.argv.slice(2).includes('start')) reexecWithAgentNodeFlags()

// Cache compiled code on disk across runs: an agent loads libp2p and friends, and the demo starts
// five of them. Node >= 22.1; a no-op where unavailable.
module.enableCompileCache?.()
const { runCli } = await import('../cli/program.js')

const code = await runCli(process.argv)
process.exitCode = code
