#!/usr/bin/env node
import module from 'node:module'

// Cache compiled code on disk across runs: an agent loads libp2p and friends, and the demo starts
// five of them. Node >= 22.1; a no-op where unavailable.
module.enableCompileCache?.()
const { runCli } = await import('../cli/program.js')

const code = await runCli(process.argv)
process.exitCode = code
