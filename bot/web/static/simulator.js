"use strict";
const chat = document.getElementById("chat");
let token = "", openid = "", msgId = Date.now(), seenOutbox = 0;

function show(who, text, into = chat) {
  const row = document.createElement("div");
  row.className = "row " + who;
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  bubble.textContent = text;
  row.appendChild(bubble);
  into.appendChild(row);
  into.scrollTop = into.scrollHeight;
}

// A voice message the bot sent (read aloud by TTS, a local fake under make run): a player.
function showVoice(mediaId) {
  show("bot", "[语音]");
  const player = document.createElement("audio");
  player.controls = true;
  player.src = "/simulator/media?media_id=" + encodeURIComponent(mediaId);
  chat.lastChild.firstChild.appendChild(player);
}

function note(text, into = chat) {
  const div = document.createElement("div");
  div.className = "note";
  div.textContent = text;
  into.appendChild(div);
}

async function sha1(text) {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest)).map(b => b.toString(16).padStart(2, "0")).join("");
}

const cdata = text => "<![CDATA[" + String(text).split("]]>").join("]]]]><![CDATA[>") + "]]>";

async function post(fields) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = String(Math.floor(Math.random() * 1e9));
  const signature = await sha1([token, timestamp, nonce].sort().join(""));
  const body = "<xml><ToUserName>" + cdata("gh_center") + "</ToUserName><FromUserName>" +
    cdata(openid) + "</FromUserName><CreateTime>" + timestamp + "</CreateTime>" + fields + "</xml>";
  const query = new URLSearchParams({signature, timestamp, nonce, openid});
  const response = await fetch("/wechat?" + query, {method: "POST", body,
    headers: {"Content-Type": "text/xml"}});
  const reply = await response.text();
  if (!response.ok) { note("出错了(" + response.status + ")"); return; }
  if (!reply || reply === "success") return;
  const xml = new DOMParser().parseFromString(reply, "text/xml");
  const content = xml.getElementsByTagName("Content")[0];
  const voice = xml.getElementsByTagName("MediaId")[0];
  if (content) show("bot", content.textContent);
  else if (voice) showVoice(voice.textContent);
}

async function sendText(text) {
  if (!text.trim()) return;
  show("me", text);
  msgId += 1;
  await post("<MsgType>" + cdata("text") + "</MsgType><Content>" + cdata(text) +
             "</Content><MsgId>" + msgId + "</MsgId>");
}

async function sendPhoto(file) {
  show("me", "[照片] " + file.name);
  const upload = await fetch("/simulator/photo", {method: "POST", body: file,
    headers: {"Content-Type": file.type || "application/octet-stream"}});
  const mediaId = (await upload.json()).media_id;
  msgId += 1;
  await post("<MsgType>" + cdata("image") + "</MsgType><PicUrl>" + cdata("http://simulator") +
             "</PicUrl><MediaId>" + cdata(mediaId) + "</MediaId><MsgId>" + msgId + "</MsgId>");
}

// Voice mode: the words typed go as a voice message with no WeChat transcript; the bot
// hears them through speech recognition (here the local fake, told the words).
let speaking = false;

async function sendVoice(text) {
  if (!text.trim()) return;
  show("me", "🎤 " + text);
  const upload = await fetch("/simulator/voice", {method: "POST", body: new URLSearchParams({text})});
  if (!upload.ok) { note("语音发不出去(" + upload.status + ")"); return; }
  msgId += 1;
  await post("<MsgType>" + cdata("voice") + "</MsgType><MediaId>" + cdata((await upload.json()).media_id) +
             "</MediaId><Format>" + cdata("amr") + "</Format><MsgId>" + msgId + "</MsgId>");
}

async function pollOutbox() {
  try {
    const sent = await (await fetch("/simulator/outbox?openid=" + encodeURIComponent(openid))).json();
    for (const message of sent.slice(seenOutbox)) {
      // customer-service messages have text or voice; template messages (notices) fields
      if (message.voice) showVoice(message.voice.media_id);
      else show("bot", message.text ? message.text.content
        : "【通知】" + Object.values(message.data).map(field => field.value).join("\n"));
    }
    seenOutbox = sent.length;
  } catch (error) { /* the next poll tries again */ }
}

document.getElementById("form").addEventListener("submit", async event => {
  event.preventDefault();
  const input = document.getElementById("text");
  const text = input.value;
  input.value = "";
  await (speaking ? sendVoice(text) : sendText(text));
});
document.getElementById("voice").addEventListener("click", event => {
  speaking = !speaking;
  event.target.textContent = speaking ? "键盘" : "语音";
  document.getElementById("text").placeholder = speaking ? "要说的话(作为语音发出)" : "说说您要办什么事";
});
document.getElementById("photo").addEventListener("change", async event => {
  const file = event.target.files[0];
  event.target.value = "";
  if (file) await sendPhoto(file);
});
document.querySelectorAll(".chips button").forEach(button =>
  button.addEventListener("click", () => sendText(button.dataset.text)));

async function tapMenu(item) {
  note("点了菜单：" + item.name);
  await post("<MsgType>" + cdata("event") + "</MsgType><Event>" + cdata("CLICK") +
             "</Event><EventKey>" + cdata(item.key) + "</EventKey>");
}

// The bottom menu as WeChat draws it: a button opens its items; an item sends its key.
function drawMenu(buttons) {
  const bar = document.getElementById("menu");
  for (const button of buttons) {
    const cell = document.createElement("div");
    const opener = document.createElement("button");
    opener.type = "button";
    opener.textContent = button.name;
    opener.addEventListener("click", () => {
      const open = !cell.classList.contains("open");
      bar.querySelectorAll(".open").forEach(other => other.classList.remove("open"));
      cell.classList.toggle("open", open);
    });
    const list = document.createElement("ul");
    for (const item of button.items) {
      const entry = document.createElement("li");
      const tap = document.createElement("button");
      tap.type = "button";
      tap.textContent = item.name;
      tap.dataset.key = item.key;
      tap.addEventListener("click", () => { cell.classList.remove("open"); tapMenu(item); });
      entry.appendChild(tap);
      list.appendChild(entry);
    }
    cell.append(opener, list);
    bar.appendChild(cell);
  }
}

// The SMS tab: a basic phone. What it sends is posted in Aliyun's 上行 format to the bot's
// uplink, as Aliyun's push would be; what the bot texts back is read from the console SMS log.
const smsChat = document.getElementById("sms-chat");
let smsToken = "", phone = "", smsSeen = 0, smsSequence = Date.now();

async function sendSms(text) {
  if (!text.trim()) return;
  show("me", text, smsChat);
  smsSequence += 1;
  const sent = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 19).replace("T", " ");
  const response = await fetch("/sms/uplink/aliyun/" + smsToken, {method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify([{phone_number: phone, content: text, send_time: sent,
                           sign_name: "", dest_code: "", sequence_id: smsSequence}])});
  if (!response.ok) note("短信没发出去(" + response.status + ")", smsChat);
}

async function pollSms() {
  try {
    const texts = await (await fetch("/simulator/sms?phone=" + phone)).json();
    for (const text of texts.slice(smsSeen)) show("bot", text, smsChat);
    smsSeen = texts.length;
  } catch (error) { /* the next poll tries again */ }
}

function openTab(name) {
  document.getElementById("wechat").hidden = name !== "wechat";
  document.getElementById("sms").hidden = name !== "sms";
  document.getElementById("tab-wechat").classList.toggle("on", name === "wechat");
  document.getElementById("tab-sms").classList.toggle("on", name === "sms");
}

document.getElementById("tab-wechat").addEventListener("click", () => openTab("wechat"));
document.getElementById("tab-sms").addEventListener("click", () => openTab("sms"));
document.getElementById("sms-form").addEventListener("submit", async event => {
  event.preventDefault();
  const input = document.getElementById("sms-text");
  const text = input.value;
  input.value = "";
  await sendSms(text);
});

(async () => {
  const config = await (await fetch("/simulator/config")).json();
  token = config.token;
  openid = config.openid;
  if (config.sms_token) {
    smsToken = config.sms_token;
    phone = config.phone;
    document.getElementById("tab-sms").hidden = false;
    document.getElementById("sms-phone").textContent = "这台手机的号码：" + phone + "（短信发给中心）";
    setInterval(pollSms, 1500);
  }
  drawMenu(config.menu);
  note("模拟器:消息按微信的格式签名后发给 /wechat");
  await post("<MsgType>" + cdata("event") + "</MsgType><Event>" + cdata("subscribe") + "</Event>");
  setInterval(pollOutbox, 2000);
})();
