// The mediaseal console. Every action is a call to /api/v2, the API the
// CLI uses, with the bearer token of the signed-in principal. The token
// lives in this module's variable only: never in web storage or a cookie,
// so it leaves with the tab. The API decides
// what the principal may see; a section whose API answers 401 or 403 is
// hidden. Text from the API is only ever set as textContent: a proposal's
// reason or an audit detail is data, never markup.

let token = null;
let principal = '';
let scopes = new Set();
let pollTimer = null;

const $ = (id) => document.getElementById(id);

function status(msg, isError) {
  const s = $('status');
  s.textContent = msg;
  s.className = isError ? 'error' : '';
}

// api calls the gateway's API; it returns {status, body} where body is the
// decoded JSON (or null), or a Blob when asBlob.
async function api(method, path, body, headers, asBlob) {
  const h = Object.assign({ Authorization: 'Bearer ' + token }, headers || {});
  const init = { method, headers: h, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
  if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path, init);
  if (resp.status === 401) {
    status('Your session has ended: sign in again.', true);
  }
  if (asBlob && resp.ok) {
    return { status: resp.status, body: await resp.blob(), headers: resp.headers };
  }
  let json = null;
  try { json = await resp.json(); } catch (e) { json = null; }
  return { status: resp.status, body: json, headers: resp.headers };
}

function errText(r) {
  return (r.body && r.body.message) ? r.body.message : 'HTTP ' + r.status;
}

// el builds an element; text children become text nodes.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'onclick') e.addEventListener('click', v);
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return e;
}

function table(caption, headers, rows) {
  const t = el('table', {}, el('caption', { text: caption }));
  const hr = el('tr');
  for (const h of headers) hr.append(el('th', { scope: 'col', text: h }));
  t.append(el('thead', {}, hr));
  const tb = el('tbody');
  for (const r of rows) {
    const tr = el('tr', r.attrs || {});
    for (const c of r.cells) tr.append(el('td', {}, c === null || c === undefined ? '' : (typeof c === 'object' ? c : String(c))));
    tb.append(tr);
  }
  if (rows.length === 0) {
    tb.append(el('tr', {}, el('td', { colspan: String(headers.length), text: 'none' })));
  }
  t.append(tb);
  return t;
}

function replace(id, node) {
  const c = $(id);
  c.replaceChildren(node);
}

function fmtTime(s) {
  return s ? new Date(s).toISOString().replace('.000Z', 'Z') : '';
}

function timeLeft(s) {
  if (!s) return '';
  const ms = new Date(s).getTime() - Date.now();
  if (ms <= 0) return 'passed';
  const m = Math.floor(ms / 60000);
  return m >= 60 ? Math.floor(m / 60) + ' h ' + (m % 60) + ' min' : m + ' min ' + Math.floor((ms % 60000) / 1000) + ' s';
}

// rfc3339 turns a datetime-local value, read as UTC, into RFC 3339.
function rfc3339(v) {
  if (!v) return '';
  return (v.length === 16 ? v + ':00' : v) + 'Z';
}

function formQuery(form) {
  const q = new URLSearchParams();
  for (const [k, v] of new FormData(form)) {
    const s = String(v).trim();
    if (s === '') continue;
    q.set(k, (k === 'from' || k === 'to') ? rfc3339(s) : s);
  }
  return q;
}

// listPage fetches one page of a filtered list: the form's filters, a
// limit and, for "More", the cursor the page before returned.
function listPage(formId, path, limit, next) {
  const q = formQuery($(formId));
  q.set('limit', String(limit));
  if (next) q.set(next.param, next.value);
  return api('GET', path + '?' + q.toString());
}

// nextPage is the cursor of the page after r's: the opaque, filter-bound
// nextCursor where the API gives one, else the older nextAfter.
function nextPage(r) {
  if (r.body.nextCursor) return { param: 'cursor', value: r.body.nextCursor };
  if (r.body.nextAfter) return { param: 'after', value: String(r.body.nextAfter) };
  return null;
}

// showPage shows a page's table in container id, or for "More" appends
// its rows to the table already there.
function showPage(id, t, more) {
  const tb = more ? $(id).querySelector('tbody') : null;
  if (!tb) {
    replace(id, t);
    return;
  }
  for (const tr of t.querySelectorAll('tbody tr')) tb.append(tr);
}

// ---- sign-in and sections ----

const sections = {
  approvals: { load: loadApprovals },
  recordings: { load: () => searchRecordings(false) },
  keys: { load: loadKeys },
  audit: { load: loadAudit },
  jobs: { load: loadJobs },
};

async function signIn(ev) {
  ev.preventDefault();
  const id = $('client-id').value.trim();
  const secret = $('client-secret').value;
  status('Signing in…');
  const resp = await fetch('/api/v2/oauth/tokens', {
    method: 'POST', cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ grantType: 'client_credentials', applicationId: id, clientSecret: secret }),
  });
  $('client-secret').value = '';
  let body = null;
  try { body = await resp.json(); } catch (e) { body = null; }
  if (!resp.ok || !body || !body.accessToken) {
    status('Sign-in refused: ' + ((body && (body.error_description || body.error)) || 'HTTP ' + resp.status), true);
    return;
  }
  token = body.accessToken;
  principal = body.applicationId || id;
  scopes = new Set(body.scopes || []);
  $('principal').textContent = principal;
  $('whoami').hidden = false;
  $('signin').hidden = true;
  $('nav').hidden = false;
  status('Signed in as ' + principal + '.');
  // Probe every section through its API: what answers 401/403 stays hidden.
  let first = null;
  for (const name of Object.keys(sections)) {
    const ok = await sections[name].load();
    document.querySelector('li[data-section="' + name + '"]').hidden = !ok;
    if (ok && !first) first = name;
  }
  show(location.hash.slice(1) in sections && !document.querySelector('li[data-section="' + location.hash.slice(1) + '"]').hidden
    ? location.hash.slice(1) : first);
}

function show(name) {
  for (const n of Object.keys(sections)) $(n).hidden = n !== name;
  for (const li of document.querySelectorAll('#nav li')) {
    const a = li.querySelector('a');
    if (li.dataset.section === name) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  document.body.dataset.section = name || '';
}

function signOut() {
  token = null;
  principal = '';
  scopes = new Set();
  clearInterval(pollTimer);
  location.hash = '';
  location.reload();
}

function onHash() {
  if (!token) return;
  const name = location.hash.slice(1);
  const li = document.querySelector('li[data-section="' + name + '"]');
  if (li && !li.hidden) {
    show(name);
    // Busy while the section reloads from the API (assistive technology
    // and tests wait for the fresh content).
    $(name).setAttribute('aria-busy', 'true');
    sections[name].load().finally(() => $(name).setAttribute('aria-busy', 'false'));
  }
}

// denied says whether a response means "not for this principal".
function denied(r) {
  return r.status === 401 || r.status === 403;
}

// ---- approvals ----

function approvalCard(a, canApprove, canVeto) {
  const votes = (a.approvals || []).map((v) => v.principal + ' (' + fmtTime(v.at) + ')').join(', ') || 'none yet';
  const dl = el('dl', {},
    el('dt', { text: 'Operation' }), el('dd', { text: a.operation + ' on ' + a.target }),
    el('dt', { text: 'Proposed by' }), el('dd', { text: a.proposer + ' at ' + fmtTime(a.createdAt) }),
    el('dt', { text: 'Reason' }), el('dd', { class: 'reason', text: a.reason || '' }),
    el('dt', { text: 'Status' }), el('dd', { class: 'approval-status', text: a.status }),
    el('dt', { text: 'Approvals' }), el('dd', { class: 'votes', text: votes + ' — ' + (a.approvals || []).length + ' of ' + a.required + ' needed (pool ' + a.pool + ': ' + (a.eligibleRoles || []).join(', ') + ')' }),
    el('dt', { text: 'Expires' }), el('dd', { text: fmtTime(a.expiresAt) + ' (' + timeLeft(a.expiresAt) + ' left)' }));
  if (a.executableAt) dl.append(el('dt', { text: 'Delay ends (veto window)' }), el('dd', { text: fmtTime(a.executableAt) + ' (' + timeLeft(a.executableAt) + ')' }));
  if (a.executeBy) dl.append(el('dt', { text: 'Execute by' }), el('dd', { text: fmtTime(a.executeBy) }));
  if (a.executedAt) dl.append(el('dt', { text: 'Executed' }), el('dd', { text: fmtTime(a.executedAt) + ' by ' + a.executedBy }));
  if (a.vetoedBy) dl.append(el('dt', { text: 'Vetoed' }), el('dd', { text: a.vetoedBy + ': ' + (a.vetoReason || '') }));
  dl.append(el('dt', { text: 'Canonical request' }), el('dd', {}, el('pre', { class: 'canonical', text: a.canonical })),
    el('dt', { text: 'Digest' }), el('dd', {}, el('code', { class: 'digest', text: a.digest })));
  const card = el('article', { class: 'approval', 'data-id': a.id, 'data-status': a.status, 'aria-label': 'Proposal ' + a.id },
    el('h3', { text: a.operation + ' ' + a.target + ' — ' + a.status }), dl);
  const actions = el('div', { class: 'actions' });
  const open = a.status === 'PENDING';
  const voted = (a.approvals || []).some((v) => v.principal === principal);
  if (a.proposer === principal) {
    actions.append(el('p', { class: 'own', text: 'Your proposal: another principal must approve it.' }));
  } else if (canApprove && open && !voted) {
    actions.append(el('button', { type: 'button', class: 'approve', onclick: () => approve(a) }, 'Approve digest ' + a.digest));
  }
  if (canVeto && (open || a.status === 'APPROVED' || a.status === 'SCHEDULED')) {
    const rid = 'veto-reason-' + a.id;
    actions.append(el('label', { for: rid, text: 'Veto reason' }), el('input', { id: rid, class: 'veto-reason' }),
      el('button', { type: 'button', class: 'veto', onclick: () => veto(a, $(rid).value) }, 'Veto'));
  }
  card.append(actions);
  return card;
}

async function loadApprovals() {
  const r = await api('GET', '/api/v2/approvals?limit=100');
  if (denied(r)) return false;
  if (r.status !== 200) { status('Approvals: ' + errText(r), true); return true; }
  const list = r.body.entities || [];
  const active = list.filter((a) => ['PENDING', 'APPROVED', 'SCHEDULED', 'EXECUTING'].includes(a.status));
  const done = list.filter((a) => !active.includes(a));
  const c = el('div');
  c.append(el('h3', { text: 'Open (' + active.length + ')' }));
  for (const a of active) c.append(approvalCard(a, scopes.has('approvals:approve'), scopes.has('approvals:veto')));
  c.append(el('h3', { text: 'Closed' }));
  c.append(table('Closed proposals', ['Operation', 'Target', 'Proposer', 'Status', 'Digest'],
    done.map((a) => ({ cells: [a.operation, a.target, a.proposer, a.status, el('code', { text: a.digest })] }))));
  replace('approvals-list', c);
  return true;
}

async function approve(a) {
  // The digest shown is the one sent: the server approves only if the
  // proposal still has exactly this canonical request.
  const r = await api('POST', '/api/v2/approvals/' + encodeURIComponent(a.id) + '/approve', { digest: a.digest });
  status(r.status === 200 ? 'Approved ' + a.id + ' (digest ' + a.digest + ').' : 'Approval refused: ' + errText(r), r.status !== 200);
  await loadApprovals();
}

async function veto(a, reason) {
  const r = await api('POST', '/api/v2/approvals/' + encodeURIComponent(a.id) + '/veto', { reason });
  status(r.status === 200 ? 'Vetoed ' + a.id + '.' : 'Veto refused: ' + errText(r), r.status !== 200);
  await loadApprovals();
}

// ---- recordings ----

let recNext = null;
let current = null;
let blobURL = null;

async function searchRecordings(more) {
  $('recordings-list').setAttribute('aria-busy', 'true');
  const r = await listPage('recordings-form', '/api/v2/recordings', 50, more && recNext);
  $('recordings-list').setAttribute('aria-busy', 'false');
  if (denied(r)) return false;
  if (r.status !== 200) { status('Search: ' + errText(r), true); return true; }
  const rows = (r.body.entities || []).map((x) => ({
    attrs: { 'data-id': x.id },
    cells: [el('button', { type: 'button', class: 'open-recording', onclick: () => openRecording(x.id) }, x.id),
      x.callId, x.queueId, x.status, fmtTime(x.startedAt), x.key.provider + ':' + x.key.keyId + (x.key.fallback ? ' (fallback)' : '')],
  }));
  showPage('recordings-list', table('Recordings', ['Recording', 'Call', 'Queue', 'Status', 'Started', 'Key'], rows), more);
  recNext = nextPage(r);
  $('recordings-more').hidden = !recNext;
  return true;
}

function duration(x) {
  if (!x.endedAt) return '';
  return ((new Date(x.endedAt) - new Date(x.startedAt)) / 1000).toFixed(1) + ' s';
}

async function openRecording(id) {
  const r = await api('GET', '/api/v2/recordings/' + encodeURIComponent(id));
  if (r.status !== 200) { status('Recording ' + id + ': ' + errText(r), true); return; }
  const x = r.body;
  current = x;
  $('recording-detail-h').textContent = 'Recording ' + x.id;
  const fields = [
    ['Call id', x.callId], ['Queue', x.queueId], ['Direction', x.direction], ['Status', x.status],
    ['Policy', x.policy.id + ' v' + x.policy.version], ['Key provider', x.key.provider], ['Key id', x.key.keyId],
    ['Key version', x.key.version], ['Fallback key', x.key.fallback ? 'yes (policy key was unavailable)' : 'no'],
    ['Chunks', x.chunks], ['Bytes', x.bytes], ['Duration', duration(x)], ['Started', fmtTime(x.startedAt)],
    ['Ended', fmtTime(x.endedAt)], ['Stored (upload)', x.durableAt ? 'uploaded ' + fmtTime(x.durableAt) : 'not yet'],
    ['SHA-256', x.sha256], ['Gateway', x.gatewayId],
  ];
  // How each track travelled: an auditor's answer to "was it encrypted in transit".
  for (const t of x.tracks || []) {
    fields.push(['Track ' + t.label, t.kind + ', ' + t.codec + ', ' + t.transport + (t.suite ? ' (' + t.suite + ')' : '')]);
  }
  const dl = $('recording-fields');
  dl.replaceChildren();
  for (const [k, v] of fields) dl.append(el('dt', { text: k }), el('dd', { text: v === undefined || v === null ? '' : String(v) }));
  $('recording-detail').hidden = false;
  $('player').hidden = true;
  const canPlay = scopes.has('recording:playback');
  $('playback-request').hidden = !(canPlay && scopes.has('approvals:propose'));
  $('playback-approved').replaceChildren();
  if (canPlay) await listPlaybackApprovals(x.id);
}

async function listPlaybackApprovals(id) {
  const q = new URLSearchParams({ operation: 'recording.playback', target: id, proposer: principal, status: 'APPROVED' });
  const r = await api('GET', '/api/v2/approvals?' + q.toString());
  if (r.status !== 200) return;
  const c = el('div');
  for (const a of r.body.entities || []) {
    c.append(el('button', { type: 'button', class: 'play', 'data-approval': a.id, onclick: () => play(id, a.id) }, 'Play (approval ' + a.id + ')'));
  }
  if ((r.body.entities || []).length === 0) c.append(el('p', { text: 'No approved playback of yours for this recording yet.' }));
  $('playback-approved').replaceChildren(c);
}

async function proposePlayback() {
  if (!current) return;
  const reason = $('playback-reason').value.trim();
  if (!reason) { status('Give a reason for the playback.', true); return; }
  const r = await api('POST', '/api/v2/approvals', { operation: 'recording.playback', target: current.id, reason });
  if (r.status !== 201) { status('Proposal refused: ' + errText(r), true); return; }
  status('Proposed playback ' + r.body.id + ' (digest ' + r.body.digest + '): waiting for ' + r.body.required + ' approvals.');
  $('playback-reason').value = '';
  await listPlaybackApprovals(current.id);
}

// play fetches the stereo WAV once under the approval (single use: the
// gateway audits it as an export) and plays and offers that same blob.
async function play(id, approval) {
  status('Fetching the recording…');
  const r = await api('GET', '/api/v2/recordings/' + encodeURIComponent(id) + '/media?format=wav-stereo', undefined,
    { 'X-Approval-Id': approval }, true);
  if (r.status !== 200) { status('Playback refused: ' + errText(r), true); return; }
  if (blobURL) URL.revokeObjectURL(blobURL);
  blobURL = URL.createObjectURL(r.body);
  const audio = $('audio');
  audio.dataset.state = 'loading';
  audio.src = blobURL;
  const dl = $('download');
  dl.href = blobURL;
  dl.setAttribute('download', id + '.wav');
  $('player').hidden = false;
  status('Playing ' + id + ' (verified: ' + r.headers.get('X-Recording-Verified') + ').');
  $('decoded').textContent = '';
  audio.play().catch(() => { /* the browser wants a gesture: the controls are there */ });
  try {
    const ctx = new AudioContext();
    const buf = await ctx.decodeAudioData(await r.body.arrayBuffer());
    $('decoded').textContent = 'Decoded: ' + buf.duration.toFixed(3) + ' s, ' + buf.numberOfChannels + ' channels';
    $('decoded').dataset.duration = String(buf.duration);
    $('decoded').dataset.channels = String(buf.numberOfChannels);
    await ctx.close();
  } catch (e) {
    $('decoded').textContent = 'Cannot decode: ' + e;
  }
  await listPlaybackApprovals(id);
}

// ---- keys and policies ----

async function loadKeys() {
  const r = await api('GET', '/api/v2/keys');
  if (denied(r)) return false;
  if (r.status !== 200) { status('Keys: ' + errText(r), true); return true; }
  const keys = r.body.entities || [];
  replace('keys-list', table('Registered keys', ['Key', 'Name', 'Type', 'Region', 'State', 'Binding', 'Rotation', 'Version'],
    keys.map((k) => ({
      attrs: { 'data-key': k.id },
      cells: [k.id, k.name, k.keyType, k.region, k.keyState, (k.binding && k.binding.status) || '',
        k.autoRotate ? 'every ' + k.rotationPeriodDays + ' days' : 'manual', k.version],
    }))));
  const p = await api('GET', '/api/v2/recordings/policies');
  $('policies-part').hidden = p.status !== 200;
  if (p.status === 200) {
    const rows = [];
    for (const pol of p.body.entities || []) {
      const ref = pol.encryptionKeyReference;
      for (const q of pol.targetIds || []) {
        rows.push({ cells: [q, pol.id + ' (' + pol.status + ')', ref ? ref.keyId : 'platform key', pol.onKeyUnavailable || ''] });
      }
    }
    replace('queues-list', table('Effective key per queue', ['Queue', 'Policy', 'Key', 'If the key is unavailable'], rows));
  }
  const a = await api('GET', '/api/v2/approvals?limit=100');
  $('key-proposals-part').hidden = a.status !== 200;
  if (a.status === 200) {
    const ops = (a.body.entities || []).filter((x) => x.operation.startsWith('key.') || x.operation.startsWith('policy.') || x.operation.startsWith('quorum'));
    replace('key-proposals', table('Key and policy proposals', ['Operation', 'Target', 'Proposer', 'Status', 'Expires'],
      ops.map((x) => ({ cells: [x.operation, x.target, x.proposer, x.status, fmtTime(x.expiresAt)] }))));
  }
  return true;
}

// ---- audit ----

let auditNext = null;

async function loadAudit() {
  const ok = await listAudit(false);
  if (ok) await verifyAudit();
  return ok;
}

async function listAudit(more) {
  const r = await listPage('audit-form', '/api/v2/audit/events', 100, more && auditNext);
  if (denied(r)) return false;
  if (r.status !== 200) { status('Audit: ' + errText(r), true); return true; }
  const t = table('Audit log', ['Seq', 'At', 'Actor', 'Action', 'Target', 'Outcome', 'Details'],
    (r.body.entities || []).map((e) => ({
      attrs: { 'data-seq': String(e.seq), 'data-action': e.action },
      cells: [e.seq, fmtTime(e.at), e.actor, e.action, e.target, e.outcome, el('code', { text: JSON.stringify(e.details) })],
    })));
  showPage('audit-list', t, more);
  auditNext = nextPage(r);
  $('audit-more').hidden = !auditNext;
  return true;
}

async function verifyAudit() {
  const v = $('verify');
  v.textContent = 'Verifying…';
  v.dataset.state = 'running';
  const r = await api('GET', '/api/v2/audit/verify');
  if (r.status !== 200) {
    v.dataset.state = 'error';
    v.textContent = 'Verification unavailable: ' + errText(r);
    return;
  }
  const x = r.body;
  v.dataset.state = x.intact ? 'intact' : 'tampered';
  if (x.intact) {
    v.textContent = 'Log intact: ' + x.entries + ' entries, head ' + x.headSeq + '; chain ok, ' + x.checkpoints +
      ' signed checkpoints matched, ' + x.anchored + ' anchored heads matched' + (x.anchor ? ' (' + x.anchor + ')' : ' (no anchor configured)') +
      '. Keys: ' + x.keys + '.';
  } else {
    v.textContent = 'TAMPERED: entry ' + x.brokenSeq + (x.brokenId ? ' (id ' + x.brokenId + ')' : '') + ': ' + x.reason;
    v.dataset.brokenSeq = String(x.brokenSeq);
  }
}

// exportAudit pages through the filtered range and offers it as JSON
// lines, each entry with its hash and previous hash for the auditor.
async function exportAudit() {
  const q = formQuery($('audit-form'));
  q.set('limit', '1000');
  const lines = [];
  for (let after = ''; ;) {
    if (after) q.set('after', after);
    const r = await api('GET', '/api/v2/audit/events?' + q.toString());
    if (r.status !== 200) { status('Export: ' + errText(r), true); return; }
    for (const e of r.body.entities || []) lines.push(JSON.stringify(e));
    if (!r.body.nextAfter) break;
    after = String(r.body.nextAfter);
  }
  const a = $('audit-download');
  if (a.href.startsWith('blob:')) URL.revokeObjectURL(a.href);
  a.href = URL.createObjectURL(new Blob([lines.join('\n') + '\n'], { type: 'application/x-ndjson' }));
  a.hidden = false;
  a.dataset.entries = String(lines.length);
  status('Export ready: ' + lines.length + ' entries.');
}

// ---- jobs ----

const finalJob = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'COMPLETED_WITH_ERRORS']);

async function loadJobs() {
  const r = await api('GET', '/api/v2/recordings/reencrypt');
  if (denied(r)) return false;
  if (r.status !== 200) { status('Jobs: ' + errText(r), true); return true; }
  const list = r.body.entities || [];
  const canCancel = scopes.has('key_management:write');
  replace('jobs-list', table('Re-encryption jobs', ['Job', 'Mode', 'Status', 'Progress', 'Changed / skipped / errors', 'Dry run: would change', 'ETA', 'Action'],
    list.map((j) => ({
      attrs: { 'data-job': j.id, 'data-status': j.status },
      cells: [j.id, j.mode + (j.dryRun ? ' (dry run)' : ''), j.status,
        el('progress', { max: String(Math.max(j.planned, 1)), value: String(j.processed), 'aria-label': 'Progress of ' + j.id }, j.processed + '/' + j.planned),
        j.changed + ' / ' + j.skipped + ' / ' + j.errors, j.dryRun ? j.plannedChanges + ' recordings, ' + j.plannedBytes + ' bytes' : '',
        finalJob.has(j.status) ? '' : Math.round(j.etaSeconds) + ' s',
        canCancel && !finalJob.has(j.status) ? el('button', { type: 'button', class: 'cancel', onclick: () => cancelJob(j.id) }, 'Cancel ' + j.id) : ''],
    }))));
  clearTimeout(pollTimer);
  if (list.some((j) => !finalJob.has(j.status)) && !$('jobs').hidden) pollTimer = setTimeout(loadJobs, 2000);
  return true;
}

async function cancelJob(id) {
  const r = await api('POST', '/api/v2/recordings/reencrypt/' + encodeURIComponent(id) + '/cancel');
  status(r.status < 300 ? 'Cancelled ' + id + '.' : 'Cancel refused: ' + errText(r), r.status >= 300);
  await loadJobs();
}

// ---- wiring ----

document.addEventListener('DOMContentLoaded', () => {
  $('signin-form').addEventListener('submit', signIn);
  $('signout').addEventListener('click', signOut);
  $('approvals-refresh').addEventListener('click', loadApprovals);
  $('recordings-form').addEventListener('submit', (e) => { e.preventDefault(); searchRecordings(false); });
  $('recordings-more').addEventListener('click', () => searchRecordings(true));
  $('playback-propose').addEventListener('click', proposePlayback);
  $('keys-refresh').addEventListener('click', loadKeys);
  $('audit-form').addEventListener('submit', (e) => { e.preventDefault(); listAudit(false); });
  $('audit-more').addEventListener('click', () => listAudit(true));
  $('audit-export').addEventListener('click', exportAudit);
  $('verify-run').addEventListener('click', verifyAudit);
  const audio = $('audio');
  audio.addEventListener('ended', () => { audio.dataset.state = 'ended'; });
  audio.addEventListener('playing', () => { audio.dataset.state = 'playing'; });
  audio.addEventListener('error', () => { audio.dataset.state = 'error'; });
  window.addEventListener('hashchange', onHash);
  document.body.dataset.ready = 'true';
});
