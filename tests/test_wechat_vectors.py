"""WeChat's published encryption vectors (../shared/reference/wechat_vectors.md) through the
channel's own decoding, so safe and compatible modes match what WeChat's servers send."""

import base64

from wechatpy import parse_message
from wechatpy.crypto import PrpCrypto

from bot.channels.wechat_protocol import WeChatConfig, decode_body, signature

# Vector A: the official 公众号 Python sample (Sample.py).
A_TOKEN = "spamtest"
A_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
A_APPID = "wx2c2769f8efd9abc2"
A_QUERY = {"timestamp": "1409735669", "nonce": "1320562132",
           "msg_signature": "5d197aaffba7e9b25a30732f161a50dee96bd5fa", "encrypt_type": "aes"}
A_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8P"
    "GHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6"
    "tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3"
    "yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl"
    "+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)
A_COMPATIBLE_BODY = (
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName>"
    "<![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName><CreateTime>1409735668</CreateTime>"
    "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[abcdteT]]></Content>"
    f"<MsgId>6054768590064713728</MsgId><Encrypt><![CDATA[{A_ENCRYPT}]]></Encrypt></xml>"
)
A_SAFE_BODY = (f"<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>"
               f"<Encrypt><![CDATA[{A_ENCRYPT}]]></Encrypt></xml>")


def test_plain_url_signature_matches_the_sample():
    assert signature(A_TOKEN, "1409735669", "1320562132") == \
        "16120ec1b8dbb870f510d87ce6bc2463eae6ca1a"


def test_compatible_and_safe_mode_bodies_decrypt_to_the_sample_message():
    config = WeChatConfig(A_TOKEN, A_APPID, A_KEY)
    for body in (A_COMPATIBLE_BODY, A_SAFE_BODY):
        message = parse_message(decode_body(config, A_QUERY, body))
        assert (message.source, message.content, message.id) == \
            ("oyORnuP8q7ou2gfYjqLzSIWZf0rs", "abcdteT", 6054768590064713728)


def test_reply_encryption_matches_the_official_java_sample():
    """Vector B: with the sample's fixed random prefix the ciphertext is byte-identical."""

    class FixedPrefix(PrpCrypto):
        def get_random_string(self):
            return "aaaabbbbccccdddd"

    key = base64.b64decode(A_KEY + "=")
    encrypted = FixedPrefix(key).encrypt("我是中文abcd123", "wxb11529c136998cb6")
    assert encrypted == (b"jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd"
                         b"832WzZGMhkP72vVOfg==")
