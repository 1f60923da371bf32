"""Deterministic synthetic corpus for the signals matching benchmark: curated keywords and short messages.

Keywords are realistic commerce words and phrases (English, Indonesian, Vietnamese with diacritics, Thai), padded
with pronounceable synthetic words up to the requested count. Messages are 20-120 characters in a mix of scripts
(Latin, Vietnamese, Thai without spaces, Japanese/Chinese, emoji), some containing keywords, many not.
Everything comes from a seeded ``random.Random``, so two runs see the same data.
"""

from __future__ import annotations

import random

REAL_KEYWORDS = [
    "payment", "payments", "price", "prices", "how much", "cash on delivery", "cod", "delivery", "shipping",
    "free shipping", "discount", "voucher", "promo code", "order", "checkout", "refund", "return policy",
    "bank transfer", "invoice", "size chart", "in stock", "out of stock", "wholesale", "installment",
    "harga", "berapa", "ongkir", "bayar", "transfer bank", "pesan", "diskon", "gratis ongkir", "bisa cod",
    "thanh toán", "giá bao nhiêu", "giao hàng", "đặt hàng", "chuyển khoản", "miễn phí vận chuyển", "giảm giá",
    "còn hàng", "ship cod", "mua ngay",
    "ราคา", "โอนเงิน", "เก็บเงินปลายทาง", "ส่งฟรี", "สั่งซื้อ", "ชำระเงิน", "ส่วนลด", "มีของไหม", "ผ่อน",
    "価格", "支払い", "送料無料", "注文", "价格", "付款", "包邮", "下单",
]  # fmt: skip

_ONSETS = ["b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z",
           "br", "ch", "cr", "dr", "fl", "gr", "kl", "pr", "sh", "st", "th", "tr"]  # fmt: skip
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "io", "ou"]
_CODAS = ["", "", "n", "r", "s", "t", "l", "m", "ng", "x"]
_THAI_SYLLABLES = ["กา", "ขอ", "คน", "ดี", "ตัว", "นี้", "มา", "ไป", "ได้", "ร้าน", "ส่ง", "ของ", "ใหม่",
                   "สวย", "ค่ะ", "ครับ", "เลย", "จ้า", "ไหม", "แบบ", "สี", "ขนาด", "เท่า", "ไหร่"]  # fmt: skip
_VI_WORDS = ["tôi", "muốn", "mua", "sản", "phẩm", "này", "bạn", "ơi", "còn", "không", "màu", "đỏ", "size",
             "bao", "nhiêu", "tiền", "được", "shop", "ạ", "nhé", "giúp", "mình", "với", "hàng", "đẹp"]  # fmt: skip
_CJK = "この商品はいくらですか在吗有货吗我想买这个颜色尺寸ありがとう送料はかかりますか请问什么时候发货"
_EMOJI = ["🙂", "😍", "🔥", "👍", "🙏", "❤️", "😂", "🛒", "📦", "✨"]
_EN_FILLER = ["hi", "hello", "is", "this", "still", "available", "please", "can", "i", "get", "the", "blue",
              "one", "size", "m", "thanks", "want", "to", "buy", "do", "you", "have", "it", "how", "long",
              "for", "my", "sis", "ya", "kak", "mau", "tanya", "ini", "masih", "ada", "nggak", "warna"]  # fmt: skip


def _pseudo_word(rng: random.Random) -> str:
    return "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(rng.randint(1, 3))) + rng.choice(_CODAS)


def make_keywords(count: int = 10_000, seed: int = 7) -> list[tuple[str, str]]:
    """``count`` distinct ``(keyword, flag)`` pairs: the real words first, then synthetic words and phrases.

    About one synthetic keyword in ten is a two-word phrase, one in twenty is Thai or Vietnamese-looking.
    """
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for word in REAL_KEYWORDS:
        if word not in seen:
            seen.add(word)
            out.append((word, word))
    while len(out) < count:
        roll = rng.random()
        if roll < 0.03:
            word = "".join(rng.choice(_THAI_SYLLABLES) for _ in range(rng.randint(2, 3)))
        elif roll < 0.05:
            word = " ".join(rng.choice(_VI_WORDS) for _ in range(2))
        elif roll < 0.15:
            word = f"{_pseudo_word(rng)} {_pseudo_word(rng)}"
        else:
            word = _pseudo_word(rng)
        if len(word) >= 4 and word not in seen:
            seen.add(word)
            out.append((word, f"kw{len(out)}"))
    return out


def make_messages(count: int = 50_000, keywords: list[tuple[str, str]] | None = None, seed: int = 11) -> list[str]:
    """``count`` messages of 20-120 characters: 55% Latin (English/Indonesian), 15% Vietnamese with diacritics,
    15% Thai without spaces, 10% Japanese/Chinese, 5% emoji-heavy; about one in four carries a keyword,
    sometimes in upper case.
    """
    rng = random.Random(seed)
    keyword_texts = [k for k, _ in keywords] if keywords else list(REAL_KEYWORDS)
    messages: list[str] = []
    for _ in range(count):
        target = rng.randint(20, 120)
        roll = rng.random()
        parts: list[str] = []
        length = 0
        while length < target:
            if roll < 0.55:
                piece = rng.choice(_EN_FILLER) if rng.random() < 0.7 else _pseudo_word(rng)
                sep = " "
            elif roll < 0.70:
                piece, sep = rng.choice(_VI_WORDS), " "
            elif roll < 0.85:
                piece, sep = rng.choice(_THAI_SYLLABLES), ""
            elif roll < 0.95:
                start = rng.randrange(len(_CJK) - 4)
                piece, sep = _CJK[start : start + rng.randint(2, 6)], ""
            else:
                piece, sep = rng.choice(_EMOJI + _EN_FILLER), " "
            if rng.random() < 0.06:
                piece = rng.choice(keyword_texts)
                if rng.random() < 0.2:
                    piece = piece.upper()
            parts.append(piece)
            length += len(piece) + len(sep)
        text = sep.join(parts)
        if rng.random() < 0.3:
            text += rng.choice(["?", "!", " 🙏", "...", " ??"])
        messages.append(text[:120])
    return messages
