// Every string the operator console shows, in one table, so it can be translated.
// `{name}`-style placeholders are filled by t(). Keys ending in _one/_other are chosen by
// Intl.PluralRules from the `count` parameter.

export const STRINGS = {
  app_title: 'livehelp console',
  brand: 'livehelp',
  brand_sub: 'Console',
  loading: 'Loading…',

  // Login
  login_heading: 'Sign in to the console',
  login_intro: 'Answer your visitors’ chats in real time.',
  login_email: 'Email',
  login_password: 'Password',
  login_submit: 'Sign in',
  login_submitting: 'Signing in…',
  login_failed: 'Wrong email or password.',
  login_error: 'Could not sign in: {message}',
  login_unreachable: 'The server cannot be reached. Check your connection and try again.',
  login_expired: 'Your session has ended. Please sign in again.',
  login_missing: 'Enter your email and password.',

  // Top bar
  nav_label: 'Main',
  sidebar_label: 'Queue and chats',
  center_label: 'Conversation',
  nav_chats: 'Chats',
  nav_history: 'History',
  signed_in_as: 'Signed in as {name}',
  logout: 'Sign out',
  notifications_enable: 'Enable notifications',
  notifications_enabled: 'Desktop notifications are on',
  notifications_denied: 'Notifications are blocked in this browser',
  sound_on: 'Sound on',
  sound_off: 'Sound off',
  sound_toggle_label: 'Play a sound for new chat requests',

  // Connection
  conn_connecting: 'Connecting…',
  conn_online: 'Connected',
  conn_lost: 'Connection lost. Reconnecting in {seconds} s…',
  conn_retrying: 'Connection lost. Reconnecting…',
  conn_retry_now: 'Retry now',
  conn_restored: 'Connection restored',
  conn_pending_one: '{count} message will be sent when the connection is back.',
  conn_pending_other: '{count} messages will be sent when the connection is back.',

  // Status
  status_legend: 'Your availability',
  status_online: 'Online',
  status_away: 'Away',
  status_online_hint: 'You receive new chats',
  status_away_hint: 'You don’t receive new chats',

  // Queue
  queue_heading: 'Waiting',
  queue_label: 'Visitors waiting for an operator',
  queue_empty: 'Nobody is waiting.',
  queue_waiting: 'Waiting {time}',
  queue_accept: 'Accept',
  queue_accept_label: 'Accept chat with {name}, waiting {time}',
  queue_accepting: 'Accepting…',

  // Chats list
  chats_heading: 'My chats',
  chats_label: 'My active chats',
  chats_empty: 'No active chats. Accept a waiting visitor to start.',
  chat_unread_one: '{count} unread message',
  chat_unread_other: '{count} unread messages',
  chat_ended_tag: 'Ended',
  chat_typing_preview: 'typing…',
  chat_no_messages: 'No messages yet',
  chat_close: 'Close',
  chat_close_label: 'Close chat with {name}',

  // Names
  visitor_anonymous: 'Visitor',
  you: 'You',
  operator_fallback: 'Operator',

  // Conversation pane
  empty_title: 'No chat selected',
  empty_body: 'Accept a visitor from the queue on the left, or pick one of your chats.',
  empty_shortcut: 'Tip: press Enter to send, Shift+Enter for a new line.',
  conv_state_queued: 'Waiting',
  conv_state_active: 'Active',
  conv_state_ended: 'Ended',
  conv_started: 'Started {time}',
  conv_log_label: 'Messages with {name}',
  conv_loading: 'Loading conversation…',
  conv_end: 'End chat',
  conv_end_confirm_q: 'End this chat?',
  conv_end_confirm: 'End chat',
  conv_end_cancel: 'Cancel',
  conv_jump_latest: 'New messages',
  conv_ended_notice: 'This chat has ended. The transcript is saved in History.',
  composer_label: 'Message to {name}',
  composer_placeholder: 'Type a message…',
  composer_hint: 'Enter to send · Shift+Enter for a new line',
  composer_send: 'Send',
  typing_visitor: '{name} is typing…',

  // Messages
  msg_sending: 'Sending…',
  msg_queued: 'Waiting for connection…',
  msg_failed: 'Not sent: {message}',
  msg_retry: 'Try again',
  msg_dismiss: 'Dismiss',
  msg_internal_note: 'Internal note',
  sys_chat_requested: 'Chat requested',
  sys_operator_joined: '{name} joined the chat',
  sys_chat_ended: 'Chat ended',
  sys_chat_ended_visitor: 'Chat ended by the visitor',
  sys_chat_ended_operator: 'Chat ended by {name}',
  sys_chat_ended_abandoned: 'Chat ended: the visitor left',
  sys_operator_joined_you: 'You joined the chat',
  sys_chat_ended_you: 'You ended the chat',
  day_today: 'Today',
  day_yesterday: 'Yesterday',

  // Visitor panel
  visitor_panel_label: 'Visitor details',
  visitor_panel_heading: 'Visitor',
  visitor_panel_empty: 'Select a chat to see who you are talking to.',
  visitor_loading: 'Loading visitor details…',
  visitor_unavailable: 'Visitor details are not available.',
  visitor_returning: 'Returning visitor',
  visitor_returning_count_one: 'Returning visitor · {count} chat',
  visitor_returning_count_other: 'Returning visitor · {count} chats',
  visitor_new: 'New visitor',
  visitor_current_page: 'Current page',
  visitor_page_unknown: 'Not reported',
  visitor_browser: 'Browser',
  visitor_os: 'Operating system',
  visitor_device: 'Device',
  visitor_ip: 'IP address',
  visitor_first_seen: 'First seen',
  visitor_last_seen: 'Last seen',
  visitor_chat_started: 'Chat started',
  visitor_user_agent: 'User agent',
  visitor_unknown: 'Unknown',
  visitor_section_session: 'This session',
  visitor_section_technical: 'Technical',

  // History
  history_heading: 'History',
  history_intro: 'Ended conversations of your team, newest first.',
  history_list_label: 'Ended conversations',
  history_refresh: 'Refresh',
  history_load_more: 'Load more',
  history_loading: 'Loading…',
  history_empty: 'No ended conversations yet.',
  history_error: 'Could not load the history: {message}',
  history_col_visitor: 'Visitor',
  history_col_date: 'Date',
  history_col_messages: 'Messages',
  history_col_ended: 'Ended by',
  history_messages_one: '{count} message',
  history_messages_other: '{count} messages',
  history_open_label: 'Open transcript of chat with {name}, {date}',
  history_back: 'Back to the list',
  history_download: 'Download .txt',
  transcript_label: 'Transcript of chat with {name}',
  transcript_loading: 'Loading transcript…',
  transcript_error: 'Could not load the transcript: {message}',
  end_reason_visitor_ended: 'Visitor',
  end_reason_operator_ended: 'Operator',
  end_reason_visitor_abandoned: 'Visitor left',
  end_reason_unknown: '—',

  // Notifications and errors
  notify_title: 'New chat request',
  notify_body: '{name} is waiting for an operator',
  toast_already_assigned: 'Another operator already accepted this chat.',
  toast_conversation_ended: 'This chat has already ended.',
  toast_error: 'Something went wrong: {message}',
  toast_dismiss: 'Dismiss notice',
  err_text_too_long: 'The message is too long (at most 10,000 characters).',
  err_text_invalid: 'The message contains characters that cannot be sent.',
  err_rate_limited: 'You are sending too fast. Please wait a moment.',
  err_unavailable: 'The server is busy. Please try again.',

  // Time
  time_just_now: 'just now',
};

const pluralRules = new Intl.PluralRules('en');

/** Looks up a string and fills `{placeholders}` from `params`. */
export function t(key, params = {}) {
  let template = STRINGS[key];
  if (typeof params.count === 'number') {
    const plural = STRINGS[`${key}_${pluralRules.select(params.count)}`] ?? STRINGS[`${key}_other`];
    if (plural !== undefined) template = plural;
  }
  if (template === undefined) return key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}
