// Store a decision: a form checked in the page with the very validator the agent runs
// (@chorus/ucxl's decision schema and address parser), then stored through POST /v1/content.
import { DecisionValidationError, parseAddress, UCXLAddressError, validateDecision } from '@chorus/ucxl'
import { useState } from 'preact/hooks'
import { post } from '../api.js'
import { ErrorNote, html, PageTitle } from '../ui.js'

/** "option: why not" lines as decision alternatives. */
function alternatives(text) {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => {
      const i = l.indexOf(':')
      return i < 0 ? { option: l } : { option: l.slice(0, i).trim(), reasonRejected: l.slice(i + 1).trim() }
    })
}

/** Field name -> message, from the address parser and the decision schema. */
function check(form, session) {
  const errors = {}
  try {
    parseAddress(form.address)
  } catch (err) {
    errors.address = err instanceof UCXLAddressError ? `${err.field} ${err.reason}` : 'is not a UCXL address'
  }
  let decision
  try {
    decision = validateDecision({
      task: form.task,
      decision: form.decision,
      rationale: form.rationale,
      alternatives: alternatives(form.alternatives),
      context: form.context,
      author: { agent: session.agentId, role: session.role },
      timestamp: new Date().toISOString()
    })
  } catch (err) {
    if (!(err instanceof DecisionValidationError)) throw err
    for (const { field, reason } of err.issues) {
      const top = field.split('.')[0]
      errors[top] ??= reason
    }
  }
  return { errors, decision }
}

const FIELDS = [
  ['task', 'Task', 'input', 'The task the decision settles'],
  ['decision', 'Decision', 'textarea', 'What was decided'],
  ['rationale', 'Rationale', 'textarea', 'Why'],
  ['alternatives', 'Alternatives', 'textarea', 'One per line: option: why it was not taken'],
  ['context', 'Context', 'textarea', 'Background a later reader needs (optional)']
]

export function StorePage({ session, navigate }) {
  const [form, setForm] = useState({
    address: `ucxl://${session.agentId}:${session.role}@project:task/*^/decision`,
    task: '',
    decision: '',
    rationale: '',
    alternatives: '',
    context: ''
  })
  const [errors, setErrors] = useState({})
  const [state, setState] = useState({})
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value })

  const submit = async (e) => {
    e.preventDefault()
    const { errors: found, decision } = check(form, session)
    setErrors(found)
    if (Object.keys(found).length > 0) {
      setState({})
      document.getElementById(`f-${Object.keys(found)[0]}`)?.focus()
      return
    }
    setState({ saving: true })
    try {
      const res = await post('/v1/content', {
        address: form.address,
        content: JSON.stringify(decision),
        contentType: 'decision'
      })
      setState({ stored: res })
    } catch (err) {
      setState({ error: err })
    }
  }

  const field = ([k, label, kind, hint]) => {
    const props = {
      id: `f-${k}`,
      name: k,
      value: form[k],
      onInput: set(k),
      'aria-invalid': errors[k] ? 'true' : undefined,
      'aria-describedby': `f-${k}-hint${errors[k] ? ` f-${k}-error` : ''}`
    }
    return html`<div class="field">
      <label for=${`f-${k}`}>${label}</label>
      ${kind === 'input' ? html`<input ...${props} />` : html`<textarea rows="3" ...${props}></textarea>`}
      <small id=${`f-${k}-hint`}>${hint}</small>
      ${errors[k] && html`<small class="field-error" id=${`f-${k}-error`}>${label} ${errors[k]}</small>`}
    </div>`
  }

  return html`
    <${PageTitle}>Store a decision</${PageTitle}>
    <p>Stored as <strong>${session.agentId}</strong> in the role <strong>${session.role}</strong>, encrypted for the roles that may read it.</p>
    <form onSubmit=${submit} noValidate aria-label="New decision" class="decision-form">
      ${field(['address', 'Address', 'input', 'A UCXL address this role may write: ucxl://agent:role@project:task/*^/path'])}
      ${FIELDS.map(field)}
      <button type="submit" disabled=${state.saving}>${state.saving ? 'Storing…' : 'Store decision'}</button>
    </form>
    <div aria-live="polite">
      ${state.error && html`<${ErrorNote} error=${state.error} what="store" />`}
      ${
        state.stored &&
        html`<p class="note ok" id="store-result">
          Stored <code>${state.stored.address}</code>${` as version ${state.stored.metadata?.version}. `}
          <a href="#" onClick=${(e) => {
            e.preventDefault()
            navigate('content', { mode: 'pattern', pattern: form.address, open: form.address })
          }}>Open the record</a>
        </p>`
      }
    </div>
  `
}
