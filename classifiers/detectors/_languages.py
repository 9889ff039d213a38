"""Just enough language identification to keep other languages from looking like a cipher.

Text in Spanish, Turkish or Latin scores a low English dictionary rate, exactly like a substitution
cipher, so before calling text enciphered the cipher detector asks two questions here: do many of its
words belong to another language's most common words, and do its letter frequencies rank like some
natural language's (a substitution cipher permutes the ranks; ROT-N shifts them)?
"""

from __future__ import annotations

from collections.abc import Sequence

LETTERS = "abcdefghijklmnopqrstuvwxyz"

# Letters from most to least frequent (published corpus counts, accents folded away).
LETTER_ORDER: dict[str, str] = {
    "en": "etaoinshrdlcumwfgypbvkjxqz",
    "es": "eaosrnidlctumpbgvyqhfzjxwk",
    "fr": "esaitnrulodcpmvqfbghjxyzwk",
    "de": "enisratdhulcgmobwfkzpvjyxq",
    "it": "eaionlrtscdupmvghfbqzyxkwj",
    "pt": "aeosridmntcuplvghqbfzjxkwy",
    "nl": "enatirodslghvkmubpwjczfxyq",
    "id": "aneiktusrdmglhbopyjcwfvzxq",
    "tr": "aeinrlkdmyutsbozgcvhpfjwxq",
}

# The most frequent short words of languages written in the Latin alphabet (plus romanised Japanese and
# Hindi), enough that ordinary sentences in them hit 20-50% of their tokens.
STOPWORDS: dict[str, frozenset[str]] = {
    lang: frozenset(text.split())
    for lang, text in {
        "es": "de la que el en y los se del las un por con no una su para es al lo como más pero sus le ya "
        "este sí porque esta entre cuando muy sin sobre también me hasta hay donde quien desde todo nos "
        "durante todos uno les ni otros ese eso ante ellos esto antes algunos qué unos yo otro otras otra "
        "él tanto esa estos mucho nada muchos cual poco ella estar estas algo mi mis tú te ti tu tus son "
        "fue era ser está están hola gracias favor cómo puede tiene hacer",
        "fr": "de la le et les des en un une du est que qui dans pour pas au sur ne se ce il elle ils elles "
        "nous vous je tu on avec par plus sont mais ou son sa ses leur aux été être avoir fait comme tout "
        "cette ces mon ma mes ton ta très bien aussi même peut sans si était bonjour merci oui non",
        "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an "
        "werden aus er hat dass sie nach wird bei einer um am sind noch wie einem über einen so zum war "
        "haben nur oder aber vor zur bis mehr durch man sein wurde sei ich du wir ihr mich dich uns euch "
        "mein dein kein keine hallo danke bitte ja nein wo was wer warum kann",
        "it": "di il la che in per un del non una le si con da dei sono al come più ma lo gli della nel "
        "alla anche ci ha ho mi ti questo questa quello io tu lui lei noi voi loro ciao grazie sì molto "
        "essere delle degli nella sul",
        "pt": "de que do da em um para com não uma os no se na por mais as dos como mas foi ao ele das tem "
        "seu sua ou ser quando muito há nos já está eu também só pelo pela até isso ela entre era depois "
        "sem mesmo aos ter seus quem nas me esse eles estão você olá obrigado sim",
        "nl": "de en het van een in is dat op te zijn met voor niet aan er om ook als bij maar dan of uit "
        "door nog wel naar ze hij zij we wij ik je jij hun dit die deze wat wie waar hoe geen heb hebben "
        "was werd worden hallo dank ja nee",
        "la": "et in est non ad cum ut sed quod qui quae quam per ex esse sunt si ab de aut nec atque enim "
        "autem vel iam nunc etiam hic haec hoc ille sit lorem ipsum dolor amet",
        "id": "yang dan di ke dari ini itu dengan untuk tidak ada pada adalah juga akan saya kamu kami kita "
        "mereka dia sudah bisa atau karena dalam oleh seperti apa tetapi jika",
        "tr": "ve bir bu da de için ile çok ne ben sen biz siz onlar gibi daha var yok ama değil mi olarak "
        "kadar sonra her şey merhaba teşekkür evet hayır",
        "sw": "na ya wa kwa ni za la katika hii kuwa au lakini kama sana mimi wewe yeye sisi wao habari "
        "asante ndiyo hapana",
        "pl": "w na z do nie się że jest to jak ale co od po tak za jego dla czy już przez ja ty on ona my "
        "wy oni być jestem",
        "cs": "se na je že do to jak ale jsem jsou by pro co už tak když nebo jeho ani ahoj děkuji ano ne",
        "sv": "och att det en som på är av för med till den har de inte om ett var jag du vi han hon men så "
        "eller og er til ikke jeg hun",
        "fi": "ja on ei se että hän oli ovat mutta kun tai myös minä sinä me te he tämä joka kuin niin hyvä "
        "kiitos",
        "tl": "ang ng sa na mga at ay si ko mo ka ako ikaw siya kami tayo kayo sila hindi oo po salamat",
        "ro": "și în de la cu un nu se pe care din este sunt pentru mai dar ce ca",
        "hu": "az és hogy nem is egy meg van de ez azt volt csak már mint ha",
        "ja-latn": "wa ga no ni wo de desu masu to mo ka ne yo watashi anata kore sore nani arigatou",
        "hi-latn": "hai ka ki ke ko main mein aap kya nahi hum tum yeh woh bhi se par aur ho raha rahe tha "
        "thi hain kaise accha",
    }.items()
}


def stopword_language(tokens: Sequence[str], *, min_share: float = 0.15, min_distinct: int = 3) -> str | None:
    """The language whose common words make up at least `min_share` of the tokens, with at least
    `min_distinct` different ones (a cipher word can hit one by chance and repeat it), or None. Only
    tokens of two letters or more count: single letters hit by chance."""
    long_tokens = [t for t in tokens if len(t) > 1]
    if len(long_tokens) < 4:
        return None
    best, best_share = None, 0.0
    for lang, common in STOPWORDS.items():
        hits = [t for t in long_tokens if t in common]
        share = len(hits) / len(long_tokens)
        if share > best_share and len(set(hits)) >= min_distinct:
            best, best_share = lang, share
    return best if best_share >= min_share else None


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2
        i = j + 1
    return ranks


def _pearson(xs: Sequence[float], ys: Sequence[float]) -> float:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / (sxx * syy) ** 0.5 if sxx and syy else 0.0


_PROFILE_RANKS = {lang: [25 - order.index(c) for c in LETTERS] for lang, order in LETTER_ORDER.items()}


def letter_spearman(counts: Sequence[int]) -> dict[str, float]:
    """Spearman rank correlation of 26 letter counts (a..z) with each language's letter frequencies."""
    ranks = _ranks(counts)
    return {lang: _pearson(ranks, profile) for lang, profile in _PROFILE_RANKS.items()}


def index_of_coincidence(counts: Sequence[int]) -> float:
    """Chance that two letters drawn from the text are equal: ~0.066 for English and about as high for
    any monoalphabetic substitution of it, ~0.038 for uniformly random letters."""
    total = sum(counts)
    return sum(c * (c - 1) for c in counts) / (total * (total - 1)) if total > 1 else 0.0
