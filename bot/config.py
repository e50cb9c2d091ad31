"""Configuration, read once from the environment into a frozen Settings.

Defaults are the embedded ones `make run` needs on a fresh clone; production sets the
variables. Paths default to this checkout.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A variable of the environment is missing, malformed or out of range: its name, what
    is expected, and what was given (never a secret's value)."""

    def __init__(self, variable: str, expected: str, given: str | None = None) -> None:
        shown = f",现在是 {given!r}" if given is not None else ""
        super().__init__(f"{variable}: {expected}{shown}")
        self.variable = variable


def _number(env: dict[str, str], name: str, default: float, low: float, high: float,
            kind: type[float] | type[int]) -> Any:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    noun = "整数" if kind is int else "数"
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(name, f"应为 {low:g} 到 {high:g} 之间的{noun}", raw) from None
    if not low <= value <= high:
        raise ConfigError(name, f"应为 {low:g} 到 {high:g} 之间的{noun}", raw)
    return value


def integer(env: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    value: int = _number(env, name, default, low, high, int)
    return value


def decimal(env: dict[str, str], name: str, default: float, low: float, high: float) -> float:
    value: float = _number(env, name, default, low, high, float)
    return value


def url(env: dict[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    """A URL of one of `schemes`, or None when unset; the value is not echoed (passwords)."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.startswith(tuple(f"{scheme}://" for scheme in schemes)):
        raise ConfigError(name, "应以 " + " 或 ".join(f"{s}://" for s in schemes) + " 开头")
    return raw


# The drivers the storage stage speaks (bot/storage/db.py).
DATABASES = ("postgresql+asyncpg", "sqlite+aiosqlite")


class Secret(str):
    """A string that never shows itself in logs or reprs."""

    def __repr__(self) -> str:
        return "Secret('***')"


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    catalogue_dir: Path = ROOT / "catalogue"
    # The seed documents facts are sourced from (`bot catalog check` checks line numbers).
    seeds_dir: Path = ROOT.parent / "shared" / "seeds"
    nlu_data_dir: Path = ROOT / "nlu_data"
    nlu_build_dir: Path = ROOT / ".nlu" / "build"
    models_dir: Path = ROOT / "models"
    nlu_python: Path = ROOT / ".venv-nlu" / "bin" / "python"
    # Set NLU_URL to use an NLU service running elsewhere; unset, `bot serve` starts one.
    nlu_url: str | None = None
    nlu_port: int = 5005
    nlu_token: Secret = field(default_factory=lambda: Secret(secrets.token_urlsafe(24)))
    nlu_log: Path = ROOT / ".nlu" / "rasa.log"
    nlu_timeout: float = 5.0
    # Unset: an in-process Redis substitute (one worker, nothing kept across restarts).
    redis_url: str | None = None
    # Unset: SQLite under .data/ (make run); production: postgresql+asyncpg://…
    database_url: str = f"sqlite+aiosqlite:///{ROOT / '.data' / 'bianmin.db'}"
    files_dir: Path = ROOT / ".data" / "files"
    # Set: uploads go to an S3-compatible object store, s3://bucket/prefix, instead.
    files_s3_url: str | None = None
    files_s3_endpoint: str | None = None
    files_s3_key: Secret | None = None
    files_s3_secret: Secret | None = None
    files_s3_region: str = "us-east-1"
    # WeChat official account. Unset token: a random one for this run (the simulator signs
    # with it); unset app id/secret: API calls go to a local fake of WeChat's API.
    wechat_token: Secret = field(default_factory=lambda: Secret(secrets.token_hex(16)))
    wechat_app_id: str | None = None
    wechat_secret: Secret | None = None
    wechat_aes_key: Secret | None = None
    wechat_api_base: str | None = None
    simulator: bool = True
    wechat_reply_budget: float = 4.0  # seconds before answering `success` and replying later
    wechat_rate_limit: int = 10  # messages per user in 10 s; more get one 「您发得太快了」
    # Clerk API tokens, "李四:token,王五:token". Unset: one random token for this run,
    # printed at start-up (make run).
    clerk_tokens: str = ""
    # SMS: console (make run: printed and appended to sms_log), aliyun or tencent. Endpoints
    # default to the providers' own; tests point them at local fakes.
    sms_provider: str = "console"
    sms_endpoint: str | None = None
    sms_key_id: str | None = None
    sms_secret: Secret | None = None
    sms_app_id: str | None = None  # Tencent's SmsSdkAppId
    sms_log: Path = ROOT / ".data" / "sms.log"
    # Speech recognition of voice messages WeChat did not transcribe: none (WeChat's own
    # Recognition only), tencent (一句话识别, engine ASR_ENGINE) or aliyun (ASR_APP_KEY).
    asr_provider: str = "none"
    asr_key_id: str | None = None
    asr_secret: Secret | None = None
    asr_app_key: str | None = None  # Aliyun's NLS project appkey
    asr_engine: str = "16k_zh_dialect"  # Tencent: Mandarin and 23 dialects
    asr_endpoint: str | None = None
    asr_token_endpoint: str | None = None  # Aliyun's CreateToken
    # Answers read aloud: none, tencent (TextToVoice) or aliyun (短文本语音合成). The keys
    # are the ASR's when both use one provider (one cloud account, one NLS project);
    # TTS_KEY_ID/TTS_SECRET/TTS_APP_KEY set them apart.
    tts_provider: str = "none"
    tts_key_id: str | None = None
    tts_secret: Secret | None = None
    tts_app_key: str | None = None
    tts_voice: str | None = None  # Tencent: a VoiceType number; Aliyun: a voice name
    tts_endpoint: str | None = None
    tts_token_endpoint: str | None = None
    # Delivery receipts come to /sms/receipts/{aliyun|tencent}/{SMS_RECEIPT_TOKEN} (the
    # providers sign nothing); unset: the receipt endpoints are off. SMS_RECEIPT_ALLOW
    # optionally lists the provider's addresses or networks, comma-separated.
    sms_receipt_token: Secret | None = None
    sms_receipt_allow: tuple[IPv4Network | IPv6Network, ...] = ()
    # Villagers' SMS come to /sms/uplink/{aliyun|tencent}/{SMS_RECEIPT_TOKEN}; the answers'
    # SMS parts per phone per China day, and the provider's per-number daily limit as
    # raised in its console (None: the provider's default, Tencent 10, Aliyun 50).
    # 40: asking the 低保 list, booking a Saturday and reading progress took 36 parts.
    sms_reply_daily_cap: int = 40
    sms_number_daily_limit: int | None = None
    # Photos of cases closed this many days ago are deleted (0: kept).
    files_retention_days: int = 0
    # How long a villager's chat transcript is kept after their last message (privacy).
    transcript_days: int = 30
    # Minutes within which clerks answer a handoff while the center is open; a handoff not
    # taken by then is escalated to the supervisors.
    handoff_answer_minutes: int = 60
    # A WeCom group robot's webhook: new and overdue handoffs are posted to the clerks' group.
    wecom_webhook: str | None = None
    # `bot serve` also runs one notice worker unless NOTICE_WORKER=0 (then run `bot worker`).
    notice_worker: bool = True
    # Behind a reverse proxy terminating HTTPS: its X-Forwarded-Proto counts (Secure cookies).
    trust_proxy: bool = False
    # /api/nlu/parse questions per caller (clerk token or console login) per minute.
    nlu_parse_per_minute: int = 60

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        defaults = cls()
        nlu_url = url(env, "NLU_URL", ("http", "https"))
        token = env.get("NLU_TOKEN")
        if nlu_url and not token:
            raise ConfigError("NLU_TOKEN", "设了 NLU_URL 就要设 NLU_TOKEN(NLU 服务的令牌)")
        if bool(env.get("WECHAT_APPID")) != bool(env.get("WECHAT_SECRET")):
            raise ConfigError("WECHAT_APPID", "和 WECHAT_SECRET 要一起设")
        provider = env.get("SMS_PROVIDER", defaults.sms_provider)
        if provider not in ("console", "aliyun", "tencent"):
            raise ConfigError("SMS_PROVIDER", "应为 console、aliyun 或 tencent", provider)
        if provider != "console" and not (env.get("SMS_KEY_ID") and env.get("SMS_SECRET")):
            raise ConfigError("SMS_KEY_ID",
                              f"SMS_PROVIDER={provider} 需要 SMS_KEY_ID 和 SMS_SECRET")
        if provider == "tencent" and not env.get("SMS_APP_ID"):
            raise ConfigError("SMS_APP_ID", "SMS_PROVIDER=tencent 需要 SMS_APP_ID(SmsSdkAppId)")
        asr = env.get("ASR_PROVIDER", defaults.asr_provider)
        if asr not in ("none", "tencent", "aliyun"):
            raise ConfigError("ASR_PROVIDER", "应为 none、tencent 或 aliyun", asr)
        if asr != "none" and not (env.get("ASR_KEY_ID") and env.get("ASR_SECRET")):
            raise ConfigError("ASR_KEY_ID", f"ASR_PROVIDER={asr} 需要 ASR_KEY_ID 和 ASR_SECRET")
        if asr == "aliyun" and not env.get("ASR_APP_KEY"):
            raise ConfigError("ASR_APP_KEY", "ASR_PROVIDER=aliyun 需要 ASR_APP_KEY(项目的 appkey)")
        tts = tts_settings(env, asr)
        aes_key = env.get("WECHAT_AES_KEY")
        if aes_key and len(aes_key) != 43:
            raise ConfigError("WECHAT_AES_KEY", "应为 43 个字符的 EncodingAESKey")

        def path(name: str, default: Path) -> Path:
            return Path(env[name]).resolve() if env.get(name) else default

        return cls(
            host=env.get("BOT_HOST", defaults.host),
            port=integer(env, "BOT_PORT", defaults.port, 1, 65535),
            catalogue_dir=path("CATALOGUE_DIR", defaults.catalogue_dir),
            seeds_dir=path("SEEDS_DIR", defaults.seeds_dir),
            nlu_data_dir=path("NLU_DATA_DIR", defaults.nlu_data_dir),
            nlu_build_dir=path("NLU_BUILD_DIR", defaults.nlu_build_dir),
            models_dir=path("NLU_MODELS_DIR", defaults.models_dir),
            nlu_python=path("NLU_PYTHON", defaults.nlu_python),
            nlu_url=nlu_url,
            nlu_port=integer(env, "NLU_PORT", defaults.nlu_port, 1, 65535),
            nlu_token=Secret(token) if token else defaults.nlu_token,
            nlu_log=path("NLU_LOG", defaults.nlu_log),
            nlu_timeout=decimal(env, "NLU_TIMEOUT", defaults.nlu_timeout, 0.1, 60),
            redis_url=url(env, "REDIS_URL", ("redis", "rediss", "unix")),
            database_url=url(env, "DATABASE_URL", DATABASES) or defaults.database_url,
            files_dir=path("FILES_DIR", defaults.files_dir),
            files_s3_url=env.get("FILES_S3_URL") or None,
            files_s3_endpoint=env.get("FILES_S3_ENDPOINT") or None,
            files_s3_key=Secret(env["FILES_S3_KEY"]) if env.get("FILES_S3_KEY") else None,
            files_s3_secret=Secret(env["FILES_S3_SECRET"]) if env.get("FILES_S3_SECRET")
            else None,
            files_s3_region=env.get("FILES_S3_REGION", defaults.files_s3_region),
            wechat_token=Secret(env["WECHAT_TOKEN"]) if env.get("WECHAT_TOKEN")
            else defaults.wechat_token,
            wechat_app_id=env.get("WECHAT_APPID") or None,
            wechat_secret=Secret(env["WECHAT_SECRET"]) if env.get("WECHAT_SECRET") else None,
            wechat_aes_key=Secret(env["WECHAT_AES_KEY"]) if env.get("WECHAT_AES_KEY") else None,
            wechat_api_base=env.get("WECHAT_API_BASE") or None,
            # The simulator signs with the token in the browser: only where no real one is set.
            wechat_reply_budget=decimal(env, "WECHAT_REPLY_BUDGET",
                                        defaults.wechat_reply_budget, 0, 4.5),
            clerk_tokens=env.get("CLERK_TOKENS", ""),
            wechat_rate_limit=integer(env, "WECHAT_RATE_LIMIT", defaults.wechat_rate_limit, 1,
                                      10_000),
            simulator=env.get("SIMULATOR", "1" if not env.get("WECHAT_TOKEN") else "0") == "1",
            sms_provider=provider, sms_endpoint=env.get("SMS_ENDPOINT") or None,
            asr_provider=asr, asr_key_id=env.get("ASR_KEY_ID") or None,
            asr_secret=Secret(env["ASR_SECRET"]) if env.get("ASR_SECRET") else None,
            asr_app_key=env.get("ASR_APP_KEY") or None,
            asr_engine=env.get("ASR_ENGINE") or defaults.asr_engine,
            asr_endpoint=env.get("ASR_ENDPOINT") or None,
            asr_token_endpoint=env.get("ASR_TOKEN_ENDPOINT") or None,
            **tts,
            sms_key_id=env.get("SMS_KEY_ID") or None,
            sms_secret=Secret(env["SMS_SECRET"]) if env.get("SMS_SECRET") else None,
            sms_app_id=env.get("SMS_APP_ID") or None,
            sms_log=path("SMS_LOG", defaults.sms_log),
            sms_receipt_token=receipt_token(env.get("SMS_RECEIPT_TOKEN")),
            sms_receipt_allow=networks("SMS_RECEIPT_ALLOW", env.get("SMS_RECEIPT_ALLOW", "")),
            sms_reply_daily_cap=integer(env, "SMS_REPLY_DAILY_CAP",
                                        defaults.sms_reply_daily_cap, 1, 1000),
            sms_number_daily_limit=integer(env, "SMS_NUMBER_DAILY_LIMIT", 0, 0, 100_000) or None,
            notice_worker=env.get("NOTICE_WORKER", "1") != "0",
            wecom_webhook=env.get("WECOM_WEBHOOK") or None,
            handoff_answer_minutes=integer(env, "HANDOFF_ANSWER_MINUTES",
                                           defaults.handoff_answer_minutes, 1, 24 * 60),
            transcript_days=integer(env, "TRANSCRIPT_DAYS", defaults.transcript_days, 1, 3650),
            files_retention_days=integer(env, "FILES_RETENTION_DAYS", 0, 0, 36500),
            trust_proxy=env.get("TRUST_PROXY", "0") == "1",
            nlu_parse_per_minute=integer(env, "NLU_PARSE_PER_MINUTE",
                                         defaults.nlu_parse_per_minute, 1, 100_000),
        )


def tts_settings(env: dict[str, str], asr: str) -> dict[str, Any]:
    """TTS_*: the provider, its keys (the ASR's when it is the same provider), its voice."""
    provider = env.get("TTS_PROVIDER", "none")
    if provider not in ("none", "tencent", "aliyun"):
        raise ConfigError("TTS_PROVIDER", "应为 none、tencent 或 aliyun", provider)

    def key(name: str) -> str | None:
        shared = env.get(f"ASR_{name}") if provider == asr else None
        return env.get(f"TTS_{name}") or shared or None

    if provider != "none" and not (key("KEY_ID") and key("SECRET")):
        raise ConfigError("TTS_KEY_ID", f"TTS_PROVIDER={provider} 需要 TTS_KEY_ID 和 TTS_SECRET"
                          "(与 ASR_PROVIDER 相同时可用 ASR_KEY_ID 和 ASR_SECRET)")
    if provider == "aliyun" and not key("APP_KEY"):
        raise ConfigError("TTS_APP_KEY", "TTS_PROVIDER=aliyun 需要 TTS_APP_KEY(项目的 appkey)")
    voice = env.get("TTS_VOICE") or None
    if provider == "tencent" and voice is not None and not voice.isdigit():
        raise ConfigError("TTS_VOICE", "TTS_PROVIDER=tencent 的音色应为数字 VoiceType", voice)
    secret = key("SECRET")
    return {"tts_provider": provider, "tts_key_id": key("KEY_ID"),
            "tts_secret": Secret(secret) if secret else None, "tts_app_key": key("APP_KEY"),
            "tts_voice": voice, "tts_endpoint": env.get("TTS_ENDPOINT") or None,
            "tts_token_endpoint": env.get("TTS_TOKEN_ENDPOINT") or None}


MIN_RECEIPT_TOKEN = 16  # characters: the URL secret is all that stands before the receipts


def receipt_token(raw: str | None) -> Secret | None:
    if not raw:
        return None
    if len(raw) < MIN_RECEIPT_TOKEN or not (raw.isascii() and
                                            raw.replace("-", "").replace("_", "").isalnum()):
        raise ConfigError("SMS_RECEIPT_TOKEN", f"应为至少 {MIN_RECEIPT_TOKEN} 个字母、数字、- 或 _"
                          "(它是回执地址的一部分)")
    return Secret(raw)


def networks(name: str, raw: str) -> tuple[IPv4Network | IPv6Network, ...]:
    try:
        return tuple(ip_network(part.strip(), strict=False)
                     for part in raw.split(",") if part.strip())
    except ValueError:
        raise ConfigError(name, "应为逗号分隔的 IP 地址或网段(如 1.2.3.4, 10.0.0.0/8)",
                          raw) from None
