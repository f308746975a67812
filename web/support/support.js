// The platform's technical support form (M5): posts to /api/v1/support-requests and shows
// the server's per-field errors next to each field. Nothing typed is cleared on an error.
const form = document.getElementById('support-form');
const status = document.getElementById('status');
const send = document.getElementById('send');
const FIELDS = ['email', 'site_url', 'description'];

function showErrors(fields) {
  for (const name of FIELDS) {
    const input = document.getElementById(name);
    const message = (fields && fields[name]) || '';
    document.getElementById(name + '-error').textContent = message;
    if (message) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }
  const first = FIELDS.find((name) => fields && fields[name]);
  if (first) document.getElementById(first).focus();
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = {};
  for (const name of FIELDS) body[name] = document.getElementById(name).value;
  send.disabled = true;
  status.className = '';
  status.textContent = 'Sending…';
  try {
    const response = await fetch('/api/v1/support-requests', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (response.ok) {
      showErrors(null);
      form.reset();
      status.className = 'ok';
      status.textContent = 'Thank you: your request was received. We will answer by email.';
    } else {
      const error = answer || {};
      showErrors(error.fields);
      status.className = 'bad';
      status.textContent = error.fields
        ? 'Please correct the marked fields.'
        : error.message || 'Your request could not be sent. Please try again.';
    }
  } catch (_) {
    status.className = 'bad';
    status.textContent = 'Your request could not be sent. Please check your connection and try again.';
  } finally {
    send.disabled = false;
  }
});
