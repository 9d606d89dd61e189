// oimws chat demo: a small web chat on the real open-im-sdk (its UMD build, vendored from npm).
// Plain JavaScript, no build step. Everything the user sees is built with textContent, never
// from HTML strings, so message text cannot inject markup.
(() => {
  'use strict';

  const { OpenIMSDK, CbEvents } = window.openImSdk;

  const SINGLE = 1;
  const GROUP = 3;
  const TEXT = 101;
  const PICTURE = 102;
  const VOICE = 103;
  const VIDEO = 104;
  const FILE = 105;
  const AT_TEXT = 106;
  const CARD = 108;
  const LOCATION = 109;
  const CUSTOM = 110;
  const TYPING = 113;
  const QUOTE = 114;
  const FACE = 115;
  const REVOKED = 2101;
  const SENDING = 1;
  const FAILED = 3;
  const TYPING_SEND_EVERY_MS = 2000;
  const TYPING_SHOW_MS = 3500;
  const HISTORY_PAGE = 50;
  const SESSION_KEY = 'oimws-demo-session';

  const $ = id => document.getElementById(id);
  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  };

  const state = {
    config: null, // {registration, wsAddr, apiAddr, platformID}
    me: null, // {userID, nickname, token, wsAddr, apiAddr}
    sdk: null,
    conversations: new Map(), // conversationID -> ConversationItem
    messages: new Map(), // conversationID -> MessageItem[] (oldest first)
    historyEnd: new Map(), // conversationID -> true when the oldest message is loaded
    current: null, // the open conversationID
    directory: [], // [{userID, nickname}] from /demo/api/users
    names: new Map(), // userID -> nickname
    typingUntil: 0,
    typingTimer: 0,
    lastTypingSent: 0,
    readTimer: 0,
    refreshTimer: 0,
    memberCounts: new Map(), // groupID -> member count
  };

  // -- small helpers ----------------------------------------------------------------------

  function hueOf(id) {
    let hash = 0;
    for (const ch of String(id)) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
    return hash % 360;
  }

  function initials(name) {
    const words = String(name || '?').trim().split(/[\s._@-]+/).filter(Boolean);
    const letters = words.length > 1 ? [words[0], words[1]] : [words[0] || '?'];
    return letters.map(w => [...w][0]).join('').toUpperCase().slice(0, 2);
  }

  function paintAvatar(node, id, name, isGroup = false) {
    node.textContent = initials(name || id);
    node.style.setProperty('--hue', String(hueOf(id)));
    node.classList.toggle('group', isGroup);
    node.setAttribute('aria-hidden', 'true');
    return node;
  }

  function avatar(id, name, isGroup = false, extraClass = '') {
    return paintAvatar(el('div', `avatar ${extraClass}`.trim()), id, name, isGroup);
  }

  function sameDay(a, b) {
    return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() &&
      a.getDate() === b.getDate();
  }

  function clock(ms) {
    return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  function shortTime(ms) {
    if (!ms) return '';
    const when = new Date(ms);
    const now = new Date();
    if (sameDay(when, now)) return clock(ms);
    if (now - when < 6 * 24 * 3600 * 1000) return when.toLocaleDateString([], { weekday: 'short' });
    return when.toLocaleDateString([], { day: 'numeric', month: 'short' });
  }

  function dayLabel(ms) {
    const when = new Date(ms);
    const today = new Date();
    const yesterday = new Date(today.getTime() - 24 * 3600 * 1000);
    if (sameDay(when, today)) return 'Today';
    if (sameDay(when, yesterday)) return 'Yesterday';
    return when.toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long' });
  }

  function parseJSON(text) {
    if (typeof text !== 'string' || !text) return null;
    try {
      return JSON.parse(text);
    } catch {
      return null;
    }
  }

  function singleConversationID(a, b) {
    return a < b ? `si_${a}_${b}` : `si_${b}_${a}`;
  }

  function conversationOf(message) {
    if (message.sessionType === GROUP || message.groupID) return `sg_${message.groupID}`;
    const peer = message.sendID === state.me.userID ? message.recvID : message.sendID;
    return singleConversationID(state.me.userID, peer);
  }

  function errorText(error) {
    if (!error) return 'Something went wrong';
    if (typeof error === 'string') return error;
    if (error.errMsg) return `${error.errMsg} (${error.errCode})`;
    return error.message || String(error);
  }

  let toastTimer = 0;
  function toast(text, isError = false) {
    const node = $('toast');
    node.textContent = text;
    node.classList.toggle('error', isError);
    node.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { node.hidden = true; }, isError ? 5000 : 2500);
  }

  function uuid() {
    if (window.crypto?.randomUUID) return crypto.randomUUID();
    return `${Date.now().toString(16)}-${Math.random().toString(16).slice(2)}`;
  }

  function nameOf(userID) {
    if (userID === state.me?.userID) return state.me.nickname || userID;
    return state.names.get(userID) || userID;
  }

  function remember(userID, nickname) {
    if (userID && nickname) state.names.set(userID, nickname);
  }

  // What a message says, in one line (conversation previews) ------------------------------

  function noticeText(message) {
    const detail = parseJSON(message.notificationElem?.detail) || parseJSON(message.content) || {};
    const who = u => (u && (u.nickname || u.userID)) || 'Someone';
    const list = users => (users || []).map(who).join(', ');
    const actor = who(detail.opUser);
    const group = detail.group?.groupName ? `“${detail.group.groupName}”` : 'the group';
    switch (message.contentType) {
      case 1201: return 'You are now friends';
      case 1501: return `${actor} created ${group}`;
      case 1502: return `${actor} changed the group settings`;
      case 1504: return `${who(detail.quitUser) || actor} left the group`;
      case 1507: return `${actor} handed the group to ${who(detail.newGroupOwner)}`;
      case 1508: return `${actor} removed ${list(detail.kickedUserList)}`;
      case 1509: return `${actor} added ${list(detail.invitedUserList)}`;
      case 1510: return `${who(detail.entrantUser)} joined the group`;
      case 1511: return `${actor} dismissed the group`;
      case 1512: return `${actor} muted ${who(detail.mutedUser)}`;
      case 1513: return `${actor} unmuted ${who(detail.mutedUser)}`;
      case 1514: return `${actor} muted the group`;
      case 1515: return `${actor} unmuted the group`;
      case 1519: return `${actor} updated the announcement`;
      case 1520: return `${actor} renamed the group to ${group}`;
      default: return 'Group updated';
    }
  }

  function summary(message) {
    if (!message) return '';
    switch (message.contentType) {
      case TEXT: return message.textElem?.content ?? message.content ?? '';
      case AT_TEXT: return message.atTextElem?.text ?? '';
      case QUOTE: return message.quoteElem?.text ?? '';
      case PICTURE: return 'Photo';
      case VOICE: return 'Voice message';
      case VIDEO: return 'Video';
      case FILE: return `File: ${message.fileElem?.fileName || 'unnamed'}`;
      case CARD: return 'Contact card';
      case LOCATION: return 'Location';
      case FACE: return 'Sticker';
      case CUSTOM: return 'Custom message';
      case REVOKED: return 'Message deleted';
      default:
        if (message.contentType >= 1000) return noticeText(message);
        return 'Message';
    }
  }

  // -- talking to the demo endpoints -----------------------------------------------------

  async function demoApi(path, body) {
    const response = await fetch(`api/${path}`, body === undefined ? {} : {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const reply = await response.json().catch(() => null);
    if (!reply || reply.errCode !== 0) {
      throw new Error(reply?.errMsg || `${path}: HTTP ${response.status}`);
    }
    return reply.data;
  }

  function addresses() {
    // ?ws=...&api=... override what the server thinks the browser reaches it by.
    const query = new URLSearchParams(location.search);
    return {
      wsAddr: query.get('ws') || state.config?.wsAddr || `ws://${location.hostname}:10003`,
      apiAddr: query.get('api') || state.config?.apiAddr || location.origin,
    };
  }

  async function loadDirectory() {
    if (!state.config?.registration) return;
    try {
      const { users } = await demoApi('users');
      state.directory = users;
      for (const user of users) remember(user.userID, user.nickname);
    } catch (error) {
      console.warn('user list:', error);
    }
  }

  // -- sign in ---------------------------------------------------------------------------

  function showLogin(message) {
    document.body.dataset.state = 'login';
    $('chat-view').hidden = true;
    $('login-view').hidden = false;
    const registration = Boolean(state.config?.registration);
    $('pick-user').hidden = !registration;
    $('register-form').hidden = !registration;
    $('token-form').hidden = registration;
    $('login-error').hidden = !message;
    $('login-error').textContent = message || '';
    if (registration) renderUserPicker();
  }

  async function renderUserPicker() {
    await loadDirectory();
    const list = $('user-picker');
    list.replaceChildren();
    for (const user of state.directory) {
      const button = el('button', 'user-chip');
      button.type = 'button';
      button.dataset.userId = user.userID;
      button.append(avatar(user.userID, user.nickname), el('span', '', user.nickname));
      button.title = `Continue as ${user.userID}`;
      button.addEventListener('click', () => registerAndLogin(user.userID, ''));
      const item = el('li');
      item.append(button);
      list.append(item);
    }
    $('no-users').hidden = state.directory.length > 0;
  }

  async function registerAndLogin(userID, nickname) {
    const button = $('register-button');
    button.disabled = true;
    try {
      const data = await demoApi('login', { userID, nickname });
      await login({ userID: data.userID, nickname: data.nickname, token: data.token,
                    wsAddr: addresses().wsAddr, apiAddr: addresses().apiAddr });
    } catch (error) {
      showLogin(errorText(error));
    } finally {
      button.disabled = false;
    }
  }

  async function login(session) {
    document.body.dataset.state = 'connecting';
    const sdk = new OpenIMSDK();
    wireEvents(sdk);
    try {
      const response = await sdk.login({
        userID: session.userID,
        token: session.token,
        platformID: state.config?.platformID || 5,
        wsAddr: session.wsAddr,
        apiAddr: session.apiAddr,
      });
      if (response?.errCode) throw response;
    } catch (error) {
      sessionStorage.removeItem(SESSION_KEY);
      const why = error?.errCode === 10000 ? 'cannot reach the gateway, or the token was refused'
        : errorText(error);
      showLogin(`Sign-in failed: ${why}`);
      return;
    }
    state.sdk = sdk;
    state.me = { ...session };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    try {
      const { data: self } = await sdk.getSelfUserInfo();
      state.me.nickname = self?.nickname || session.nickname || session.userID;
    } catch {
      state.me.nickname = session.nickname || session.userID;
    }
    remember(state.me.userID, state.me.nickname);
    showChat();
    await Promise.all([loadConversations(), loadDirectory()]);
    document.body.dataset.state = 'ready';
  }

  async function logout(message) {
    const sdk = state.sdk;
    state.sdk = null;
    sessionStorage.removeItem(SESSION_KEY);
    if (sdk) {
      try {
        await sdk.logout();
      } catch {
        // already gone
      }
    }
    state.me = null;
    state.current = null;
    state.conversations.clear();
    state.messages.clear();
    state.historyEnd.clear();
    showLogin(message);
  }

  // -- events from the gateway -----------------------------------------------------------

  function wireEvents(sdk) {
    const mine = handler => event => {
      if (state.sdk === sdk) handler(event.data);
    };
    sdk.on(CbEvents.OnRecvNewMessages, mine(messages => {
      for (const message of Array.isArray(messages) ? messages : [messages]) receive(message);
    }));
    sdk.on(CbEvents.OnRecvNewMessage, mine(message => message && receive(message)));
    sdk.on(CbEvents.OnConversationChanged, mine(upsertConversations));
    sdk.on(CbEvents.OnNewConversation, mine(upsertConversations));
    sdk.on(CbEvents.OnTotalUnreadMessageCountChanged, mine(count => {
      document.title = count > 0 ? `(${count}) oimws chat` : 'oimws chat';
    }));
    sdk.on(CbEvents.OnRecvC2CReadReceipt, mine(receipts => {
      for (const receipt of Array.isArray(receipts) ? receipts : [receipts]) readByPeer(receipt);
    }));
    sdk.on(CbEvents.OnNewRecvMessageRevoked, mine(revoked => {
      for (const list of state.messages.values()) {
        const found = list.find(m => m.clientMsgID === revoked?.clientMsgID);
        if (found) found.contentType = REVOKED;
      }
      renderMessages();
      scheduleRefresh();
    }));
    sdk.on(CbEvents.OnJoinedGroupAdded, mine(() => scheduleRefresh()));
    sdk.on(CbEvents.OnGroupMemberAdded, mine(member => {
      if (member?.groupID) state.memberCounts.delete(member.groupID);
      if (state.current === `sg_${member?.groupID}`) renderHeader();
    }));
    sdk.on(CbEvents.OnKickedOffline, mine(() => logout('You signed in somewhere else.')));
    sdk.on(CbEvents.OnUserTokenExpired, mine(() => logout('Your session expired.')));
  }

  function receive(message) {
    if (!message || !message.clientMsgID) return;
    if (message.contentType === TYPING) {
      showTyping(message);
      return;
    }
    remember(message.sendID, message.senderNickname);
    const conversationID = conversationOf(message);
    const list = state.messages.get(conversationID);
    if (list) insertMessage(list, message);
    if (message.sendID !== state.me.userID && state.current === conversationID) {
      state.typingUntil = 0;
      renderStatus();
    }
    const conversation = state.conversations.get(conversationID);
    if (conversation) {
      if ((message.sendTime || 0) >= (conversation.latestMsgSendTime || 0)) {
        conversation.latestMsg = JSON.stringify(message);
        conversation.latestMsgSendTime = message.sendTime || Date.now();
      }
      renderConversations();
    } else {
      scheduleRefresh();
    }
    if (state.current === conversationID) {
      renderMessages(true);
      if (message.sendID !== state.me.userID) scheduleRead();
    }
  }

  function insertMessage(list, message) {
    const at = list.findIndex(m => m.clientMsgID === message.clientMsgID);
    if (at >= 0) {
      list[at] = { ...list[at], ...message };
    } else {
      list.push(message);
    }
    list.sort((a, b) => (a.seq && b.seq ? a.seq - b.seq : 0) ||
      (a.sendTime || a.createTime || 0) - (b.sendTime || b.createTime || 0));
  }

  function upsertConversations(items) {
    for (const item of Array.isArray(items) ? items : [items]) {
      if (!item?.conversationID) continue;
      const known = state.conversations.get(item.conversationID) || {};
      const merged = { ...known, ...item };
      // While a conversation is on screen its messages are read as they come.
      if (item.conversationID === state.current && merged.unreadCount > 0) scheduleRead();
      state.conversations.set(item.conversationID, merged);
      if (item.conversationType === SINGLE) remember(item.userID, item.showName);
    }
    renderConversations();
    if (state.current) renderHeader();
  }

  function readByPeer(receipt) {
    if (!receipt?.userID) return;
    const ids = new Set(receipt.msgIDList || []);
    const list = state.messages.get(singleConversationID(state.me.userID, receipt.userID));
    if (!list) return;
    for (const message of list) {
      if (message.sendID === state.me.userID && (ids.has(message.clientMsgID) || ids.size === 0)) {
        message.isRead = true;
      }
    }
    if (state.current === singleConversationID(state.me.userID, receipt.userID)) renderMessages();
  }

  function showTyping(message) {
    if (message.sendID === state.me.userID) return;
    if (state.current !== singleConversationID(state.me.userID, message.sendID)) return;
    state.typingUntil = Date.now() + TYPING_SHOW_MS;
    renderStatus();
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(renderStatus, TYPING_SHOW_MS + 50);
  }

  function scheduleRead() {
    clearTimeout(state.readTimer);
    state.readTimer = setTimeout(markCurrentRead, 150);
  }

  async function markCurrentRead() {
    const conversationID = state.current;
    if (!conversationID || !state.sdk || document.visibilityState === 'hidden') return;
    const conversation = state.conversations.get(conversationID);
    try {
      await state.sdk.markConversationMessageAsRead(conversationID);
      if (conversation) conversation.unreadCount = 0;
      renderConversations();
    } catch (error) {
      console.warn('mark as read:', error);
    }
  }

  function scheduleRefresh() {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(loadConversations, 200);
  }

  async function loadConversations() {
    if (!state.sdk) return;
    try {
      const { data } = await state.sdk.getAllConversationList();
      upsertConversations(data || []);
    } catch (error) {
      toast(`Could not load conversations: ${errorText(error)}`, true);
    }
  }

  // -- rendering -------------------------------------------------------------------------

  function showChat() {
    $('login-view').hidden = true;
    $('chat-view').hidden = false;
    paintAvatar($('me-avatar'), state.me.userID, state.me.nickname);
    $('me-name').textContent = state.me.nickname;
    $('me-id').textContent = `@${state.me.userID}`;
    renderConversations();
    renderChat();
  }

  function sortedConversations() {
    return [...state.conversations.values()]
      .filter(c => c.conversationType === SINGLE || c.conversationType === GROUP)
      .sort((a, b) => (Number(b.isPinned) - Number(a.isPinned)) ||
        (b.latestMsgSendTime || 0) - (a.latestMsgSendTime || 0));
  }

  function renderConversations() {
    const list = $('conversation-list');
    const items = sortedConversations();
    const nodes = items.map(conversation => {
      const latest = parseJSON(conversation.latestMsg);
      // the open conversation is being read: its count is cleared as messages come
      const reading = conversation.conversationID === state.current &&
        document.visibilityState !== 'hidden';
      const unread = reading ? 0 : conversation.unreadCount || 0;
      const item = el('li', `conversation${unread ? ' unread' : ''}`);
      item.dataset.conversationId = conversation.conversationID;
      item.tabIndex = 0;
      item.setAttribute('role', 'button');
      item.setAttribute('aria-current', String(conversation.conversationID === state.current));
      const isGroup = conversation.conversationType === GROUP;
      const name = conversation.showName || conversation.groupID || conversation.userID;
      item.append(avatar(isGroup ? conversation.groupID : conversation.userID, name, isGroup));
      const meta = el('div', 'meta');
      const top = el('div', 'row');
      top.append(el('span', 'name', name),
        el('time', '', shortTime(conversation.latestMsgSendTime)));
      const bottom = el('div', 'row');
      let preview = latest ? summary(latest) : (isGroup ? 'Group created' : 'No messages yet');
      if (latest && latest.sendID === state.me.userID && latest.contentType < 1000) {
        preview = `You: ${preview}`;
      } else if (latest && isGroup && latest.contentType < 1000 && latest.senderNickname) {
        preview = `${latest.senderNickname}: ${preview}`;
      }
      bottom.append(el('span', 'preview', preview));
      if (unread) {
        const badge = el('span', 'badge', unread > 99 ? '99+' : String(unread));
        badge.setAttribute('aria-label', `${unread} unread`);
        bottom.append(badge);
      }
      meta.append(top, bottom);
      item.append(meta);
      item.addEventListener('click', () => openConversation(conversation.conversationID));
      item.addEventListener('keydown', event => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          openConversation(conversation.conversationID);
        }
      });
      return item;
    });
    const focused = document.activeElement?.dataset?.conversationId;
    list.replaceChildren(...nodes);
    if (focused) nodes.find(n => n.dataset.conversationId === focused)?.focus();
    $('no-conversations').hidden = nodes.length > 0;
  }

  function currentConversation() {
    return state.current ? state.conversations.get(state.current) : null;
  }

  function renderChat() {
    const open = Boolean(currentConversation());
    $('chat-view').classList.toggle('chat-open', open);
    $('chat-placeholder').hidden = open;
    $('chat-header').hidden = !open;
    $('messages').hidden = !open;
    $('composer').hidden = !open;
    if (open) {
      renderHeader();
      renderMessages(true);
    }
  }

  function renderHeader() {
    const conversation = currentConversation();
    if (!conversation) return;
    const isGroup = conversation.conversationType === GROUP;
    const name = conversation.showName || conversation.groupID || conversation.userID;
    paintAvatar($('chat-avatar'), isGroup ? conversation.groupID : conversation.userID, name, isGroup);
    $('chat-name').textContent = name;
    renderStatus();
  }

  function renderStatus() {
    const conversation = currentConversation();
    const status = $('chat-status');
    if (!conversation) return;
    const typing = conversation.conversationType === SINGLE && Date.now() < state.typingUntil;
    status.classList.toggle('typing', typing);
    if (typing) {
      status.textContent = 'typing…';
    } else if (conversation.conversationType === GROUP) {
      const count = state.memberCounts.get(conversation.groupID);
      status.textContent = count ? `Group · ${count} members` : 'Group';
      if (count === undefined) loadMemberCount(conversation.groupID);
    } else {
      status.textContent = `@${conversation.userID}`;
    }
  }

  async function loadMemberCount(groupID) {
    state.memberCounts.set(groupID, 0);
    try {
      const { data } = await state.sdk.getSpecifiedGroupsInfo([groupID]);
      const group = (data || [])[0];
      if (group) state.memberCounts.set(groupID, group.memberCount);
      renderStatus();
    } catch {
      // the header just says "Group"
    }
  }

  function messageNode(message, previous, isGroup, lastMineID) {
    if (message.contentType >= 1000 && message.contentType !== REVOKED) {
      return el('div', 'notice', noticeText(message));
    }
    const mine = message.sendID === state.me.userID;
    const continued = previous && previous.sendID === message.sendID &&
      previous.contentType < 1000 &&
      (message.sendTime || 0) - (previous.sendTime || 0) < 5 * 60 * 1000;
    const node = el('div', `msg ${mine ? 'mine' : 'theirs'}${continued ? ' continued' : ''}`);
    node.dataset.clientMsgId = message.clientMsgID;
    if (message.status === SENDING) node.classList.add('pending');
    if (message.status === FAILED) node.classList.add('failed');
    if (isGroup && !mine && !continued) {
      node.append(el('div', 'sender', message.senderNickname || nameOf(message.sendID)));
    }
    let bubble;
    if (message.contentType === PICTURE) {
      bubble = el('div', 'bubble picture');
      const picture = message.pictureElem || {};
      const source = picture.sourcePicture?.url || message.localPreview || '';
      const shown = picture.snapshotPicture?.url || source;
      const img = el('img');
      img.alt = 'Photo';
      img.loading = 'lazy';
      img.decoding = 'async';
      if (shown) img.src = shown;
      const width = picture.sourcePicture?.width;
      const height = picture.sourcePicture?.height;
      if (width && height) {
        img.width = Math.min(260, width);
        img.height = Math.round(img.width * height / width);
      }
      if (source && !message.localPreview) {
        const link = el('a');
        link.href = source;
        link.target = '_blank';
        link.rel = 'noopener';
        link.append(img);
        bubble.append(link);
      } else {
        bubble.append(img);
      }
      if (message.localPreview) bubble.append(el('div', 'uploading muted', 'Uploading…'));
    } else if (message.contentType === REVOKED) {
      bubble = el('div', 'bubble revoked', 'This message was deleted');
    } else {
      bubble = el('div', 'bubble', summary(message));
    }
    node.append(bubble);
    const stamp = el('div', 'stamp');
    stamp.append(el('time', '', clock(message.sendTime || message.createTime || Date.now())));
    if (mine && message.clientMsgID === lastMineID) {
      let receipt;
      if (message.status === FAILED) receipt = el('span', 'receipt failed', 'Not sent');
      else if (message.status === SENDING) receipt = el('span', 'receipt', 'Sending…');
      else if (!isGroup && message.isRead) receipt = el('span', 'receipt read', 'Read');
      else receipt = el('span', 'receipt', 'Sent');
      stamp.append(receipt);
    }
    node.append(stamp);
    return node;
  }

  function renderMessages(stickToBottom = false) {
    const conversation = currentConversation();
    const box = $('messages');
    if (!conversation) return;
    const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 120;
    const list = state.messages.get(conversation.conversationID) || [];
    const isGroup = conversation.conversationType === GROUP;
    const lastMine = [...list].reverse().find(m => m.sendID === state.me.userID &&
      m.contentType < 1000);
    const nodes = [];
    if (!state.historyEnd.get(conversation.conversationID) && list.length >= HISTORY_PAGE) {
      const more = el('button', 'soft', 'Load earlier messages');
      more.type = 'button';
      more.style.alignSelf = 'center';
      more.addEventListener('click', () => loadHistory(conversation.conversationID, true));
      nodes.push(more);
    }
    let previous = null;
    for (const message of list) {
      const when = message.sendTime || message.createTime || Date.now();
      if (!previous || !sameDay(new Date(previous.sendTime || previous.createTime || when),
        new Date(when))) {
        nodes.push(el('div', 'day', dayLabel(when)));
        previous = null;
      }
      nodes.push(messageNode(message, previous, isGroup, lastMine?.clientMsgID));
      previous = message;
    }
    box.replaceChildren(...nodes);
    if (stickToBottom || nearBottom) {
      box.style.scrollBehavior = 'auto';
      box.scrollTop = box.scrollHeight;
      box.style.scrollBehavior = '';
    }
  }

  // -- actions ---------------------------------------------------------------------------

  async function loadHistory(conversationID, older = false) {
    const list = state.messages.get(conversationID) || [];
    const first = older ? list.find(m => m.seq) : null;
    try {
      const { data } = await state.sdk.getAdvancedHistoryMessageList({
        conversationID,
        startClientMsgID: first ? first.clientMsgID : '',
        count: HISTORY_PAGE,
        lastMinSeq: 0,
      });
      const page = (data?.messageList || []).filter(m => m.contentType !== TYPING);
      const merged = older ? list : [];
      for (const message of page) {
        remember(message.sendID, message.senderNickname);
        insertMessage(merged, message);
      }
      // messages that arrived while the page loaded
      if (!older) for (const message of list) insertMessage(merged, message);
      state.messages.set(conversationID, merged);
      state.historyEnd.set(conversationID, Boolean(data?.isEnd) || page.length < HISTORY_PAGE);
    } catch (error) {
      toast(`Could not load messages: ${errorText(error)}`, true);
      if (!state.messages.has(conversationID)) state.messages.set(conversationID, []);
    }
  }

  async function openConversation(conversationID) {
    if (!state.conversations.has(conversationID)) return;
    state.current = conversationID;
    state.typingUntil = 0;
    renderConversations();
    renderChat();
    if (!state.messages.has(conversationID)) {
      state.messages.set(conversationID, []);
      await loadHistory(conversationID);
      if (state.current === conversationID) renderMessages(true);
    }
    const conversation = state.conversations.get(conversationID);
    if (conversation?.unreadCount > 0 || conversation?.groupAtType) await markCurrentRead();
    if (window.matchMedia('(min-width: 721px)').matches) $('message-input').focus();
  }

  async function openWith(sessionType, sourceID) {
    try {
      const { data } = await state.sdk.getOneConversation({ sourceID, sessionType });
      upsertConversations([data]);
      await openConversation(data.conversationID);
    } catch (error) {
      toast(errorText(error), true);
    }
  }

  function target(conversation) {
    return conversation.conversationType === GROUP
      ? { recvID: '', groupID: conversation.groupID }
      : { recvID: conversation.userID, groupID: '' };
  }

  async function send(conversation, message) {
    const conversationID = conversation.conversationID;
    const list = state.messages.get(conversationID) || [];
    state.messages.set(conversationID, list);
    message.status = SENDING;
    message.sendTime = message.sendTime || Date.now();
    insertMessage(list, message);
    if (state.current === conversationID) renderMessages(true);
    try {
      const { data: stored } = await state.sdk.sendMessage({ ...target(conversation), message });
      insertMessage(list, { ...stored, status: 2 });
      conversation.latestMsg = JSON.stringify(stored);
      conversation.latestMsgSendTime = stored.sendTime;
    } catch (error) {
      insertMessage(list, { ...message, status: FAILED });
      toast(`Not sent: ${errorText(error)}`, true);
    }
    renderConversations();
    if (state.current === conversationID) renderMessages(true);
  }

  async function sendText(event) {
    event.preventDefault();
    const input = $('message-input');
    const text = input.value.trim();
    const conversation = currentConversation();
    if (!text || !conversation) return;
    input.value = '';
    autoGrow();
    state.lastTypingSent = 0;
    try {
      const { data: message } = await state.sdk.createTextMessage(text);
      await send(conversation, message);
    } catch (error) {
      toast(errorText(error), true);
    }
  }

  function imageSize(file) {
    return new Promise(resolve => {
      const url = URL.createObjectURL(file);
      const img = new Image();
      img.onload = () => resolve({ width: img.naturalWidth, height: img.naturalHeight, url });
      img.onerror = () => resolve({ width: 0, height: 0, url });
      img.src = url;
    });
  }

  async function sendImage(file) {
    const conversation = currentConversation();
    if (!file || !conversation) return;
    const conversationID = conversation.conversationID;
    const { width, height, url } = await imageSize(file);
    if (!width) {
      toast('That file is not an image this browser can show', true);
      return;
    }
    // a placeholder bubble with the local picture while the upload runs
    const placeholder = {
      clientMsgID: `local-${uuid()}`, sendID: state.me.userID, contentType: PICTURE,
      status: SENDING, sendTime: Date.now(), localPreview: url,
      pictureElem: { sourcePicture: { url, width, height } },
    };
    const list = state.messages.get(conversationID) || [];
    state.messages.set(conversationID, list);
    insertMessage(list, placeholder);
    if (state.current === conversationID) renderMessages(true);
    const type = (file.type.split('/')[1] || 'png').replace('jpeg', 'jpg');
    const picture = { uuid: uuid(), type, size: file.size, width, height, url: '' };
    const scale = Math.min(1, 320 / width);
    const snapshot = { ...picture, width: Math.round(width * scale),
                       height: Math.round(height * scale) };
    try {
      const { data: message } = await state.sdk.createImageMessageByFile({
        sourcePath: '', sourcePicture: picture, bigPicture: { ...picture },
        snapshotPicture: snapshot, file,
      });
      list.splice(list.indexOf(placeholder), 1);
      await send(conversation, message);
    } catch (error) {
      placeholder.status = FAILED;
      toast(`Upload failed: ${errorText(error)}`, true);
      if (state.current === conversationID) renderMessages();
    } finally {
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    }
  }

  function sendTyping() {
    const conversation = currentConversation();
    if (!conversation || conversation.conversationType !== SINGLE) return;
    if (!$('message-input').value.trim()) return;
    const now = Date.now();
    if (now - state.lastTypingSent < TYPING_SEND_EVERY_MS) return;
    state.lastTypingSent = now;
    state.sdk.typingStatusUpdate({ recvID: conversation.userID, msgTip: 'yes' }).catch(() => {});
  }

  function autoGrow() {
    const input = $('message-input');
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight + 2, 140)}px`;
  }

  // -- dialogs ---------------------------------------------------------------------------

  function people() {
    const known = new Map();
    for (const user of state.directory) known.set(user.userID, user.nickname);
    for (const conversation of state.conversations.values()) {
      if (conversation.conversationType === SINGLE && !known.has(conversation.userID)) {
        known.set(conversation.userID, conversation.showName || conversation.userID);
      }
    }
    known.delete(state.me.userID);
    return [...known].map(([userID, nickname]) => ({ userID, nickname }))
      .sort((a, b) => a.nickname.localeCompare(b.nickname));
  }

  function personRow(user, control) {
    const who = el('span', 'who');
    who.append(el('span', '', user.nickname), el('small', '', `@${user.userID}`));
    const row = el(control ? 'label' : 'button', 'person');
    if (control) row.append(control);
    else row.type = 'button';
    row.append(avatar(user.userID, user.nickname, false, 'small'), who);
    return row;
  }

  async function openNewChat() {
    await loadDirectory();
    const dialog = $('new-chat-dialog');
    const list = $('new-chat-users');
    list.replaceChildren(...people().map(user => {
      const row = personRow(user);
      row.dataset.userId = user.userID;
      row.addEventListener('click', () => {
        dialog.close('cancel');
        openWith(SINGLE, user.userID);
      });
      const item = el('li');
      item.append(row);
      return item;
    }));
    list.hidden = list.children.length === 0;
    $('new-chat-id').value = '';
    dialog.showModal();
  }

  async function openNewGroup() {
    await loadDirectory();
    const list = $('group-members');
    list.replaceChildren(...people().map(user => {
      const box = el('input');
      box.type = 'checkbox';
      box.name = 'member';
      box.value = user.userID;
      const item = el('li');
      item.append(personRow(user, box));
      return item;
    }));
    list.hidden = list.children.length === 0;
    $('group-name').value = '';
    $('group-extra-ids').value = '';
    $('new-group-dialog').showModal();
  }

  async function createGroup() {
    const name = $('group-name').value.trim();
    const picked = [...document.querySelectorAll('#group-members input:checked')].map(b => b.value);
    const typed = $('group-extra-ids').value.split(/[\s,]+/).filter(Boolean);
    const members = [...new Set([...picked, ...typed])].filter(id => id !== state.me.userID);
    if (!name) return;
    try {
      const { data: group } = await state.sdk.createGroup({
        groupInfo: { groupName: name, groupType: 2, needVerification: 2 },
        memberUserIDs: members,
      });
      state.memberCounts.set(group.groupID, group.memberCount || members.length + 1);
      await openWith(GROUP, group.groupID);
    } catch (error) {
      toast(`Could not create the group: ${errorText(error)}`, true);
    }
  }

  // -- start -----------------------------------------------------------------------------

  function bindUi() {
    $('register-form').addEventListener('submit', event => {
      event.preventDefault();
      registerAndLogin($('new-user-id').value.trim(), $('new-user-name').value.trim());
    });
    $('token-form').addEventListener('submit', event => {
      event.preventDefault();
      const { wsAddr, apiAddr } = addresses();
      login({ userID: $('token-user-id').value.trim(), token: $('token-value').value.trim(),
              nickname: '', wsAddr, apiAddr });
    });
    $('logout-button').addEventListener('click', () => logout());
    $('back-button').addEventListener('click', () => {
      state.current = null;
      renderConversations();
      renderChat();
    });
    $('composer').addEventListener('submit', sendText);
    $('message-input').addEventListener('keydown', event => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) sendText(event);
    });
    $('message-input').addEventListener('input', () => {
      autoGrow();
      sendTyping();
    });
    $('image-input').addEventListener('change', event => {
      const [file] = event.target.files;
      event.target.value = '';
      sendImage(file);
    });
    $('new-chat').addEventListener('click', openNewChat);
    $('new-group').addEventListener('click', openNewGroup);
    $('new-chat-dialog').addEventListener('close', () => {
      const dialog = $('new-chat-dialog');
      const userID = $('new-chat-id').value.trim();
      if (dialog.returnValue === 'start' && userID) openWith(SINGLE, userID);
    });
    $('new-group-dialog').addEventListener('close', () => {
      if ($('new-group-dialog').returnValue === 'create') createGroup();
    });
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && currentConversation()?.unreadCount) {
        markCurrentRead();
      }
    });
  }

  async function start() {
    bindUi();
    try {
      state.config = await demoApi('config');
    } catch (error) {
      console.warn('demo config:', error);
      state.config = { registration: false };
    }
    const saved = parseJSON(sessionStorage.getItem(SESSION_KEY));
    if (saved?.userID && saved?.token) {
      await login(saved);
    } else {
      showLogin();
    }
  }

  start();
})();
