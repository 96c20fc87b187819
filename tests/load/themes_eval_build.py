"""Builds tests/load/themes_eval.csv, the labelled comments the theme benchmark reads.

Each clause below was written by hand to sound like what patients write in a GP practice's comment
box (short, informal, the odd typo), and labelled with the theme it is about and whether it is a
complaint. A comment joins one to three clauses the way patients do ("friendly staff but we waited
an hour"), so every comment's labels follow from its clauses'. Rerun after editing the clauses:
``python -m tests.load.themes_eval_build`` (deterministic: the same file every time).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

OUT = Path(__file__).with_name("themes_eval.csv")

# (theme, negative?, clause). Theme names are the default themes'; "A|B": the clause is about both.
EN = [
    ("Wait time", True, "we waited over an hour past our appointment time"),
    ("Wait time", True, "kept waiting 50 mins with no explanation"),
    ("Wait time", True, "the clinic was running late again"),
    ("Wait time", True, "waited ages in reception"),
    ("Wait time", True, "the delay was ridiculous"),
    ("Wait time", True, "40 minute wait for a 5 minute appointment, not good enough"),
    ("Wait time", False, "hardly any wait"),
    ("Wait time", False, "seen bang on time"),
    ("Wait time", False, "the wait was short"),
    ("Appointments and access", True, "impossible to get an appointment this month"),
    ("Appointments and access", True, "no appointments available for three weeks"),
    ("Appointments and access", True, "had to fight for a same day slot"),
    ("Appointments and access", True, "booking system is a nightmare"),
    ("Appointments and access", True, "they cancelled my appointment twice"),
    ("Appointments and access", False, "got an appointment the same day"),
    ("Appointments and access", False, "easy to book"),
    ("Appointments and access", False, "appointment was quick to arrange"),
    ("Phone", True, "the phone line is always engaged"),
    ("Phone|Wait time", True, "on hold for 45 minutes then cut off"),
    ("Phone", True, "nobody ever answers the phone"),
    ("Phone", True, "called 30 times at 8am and got nowhere"),
    ("Phone", False, "the phone was answered quickly"),
    ("Phone", False, "lovely lady on the phone"),
    ("Staff attitude", True, "the receptionist was rude to my mum"),
    ("Staff attitude", True, "really unfriendly at the front desk"),
    ("Staff attitude|Communication", True, "the doctor was dismissive and didnt listen"),
    ("Staff attitude", True, "staff were impolite and unhelpful"),
    ("Staff attitude", True, "felt like a nuisance, such a bad attitude"),
    ("Staff attitude", False, "friendly receptionist sorted out my prescription quickly"),
    ("Staff attitude", False, "everyone was polite"),
    ("Staff attitude", False, "the reception team were so kind and helpful"),
    ("Staff attitude", False, "friendly staff"),
    ("Communication|Wait time", True, "nobody told us the clinic was running behind"),
    ("Communication", True, "results explained in jargon, left me confused"),
    ("Communication", True, "no information about what happens next"),
    ("Communication", True, "I was never informed my referral was rejected"),
    ("Communication", False, "the nurse explained everything clearly"),
    ("Communication", False, "kept us informed the whole time"),
    ("Clinical care", True, "the doctor didnt examine me properly"),
    ("Clinical care", True, "wrong medication on my prescription"),
    ("Clinical care", True, "my test results were lost"),
    ("Clinical care", True, "treatment was rushed and I still feel unwell"),
    ("Clinical care", False, "the nurse was brilliant with my son"),
    ("Clinical care", False, "great care from dr patel"),
    ("Clinical care", False, "the treatment worked straight away"),
    ("Billing", True, "I was charged twice for the same visit"),
    ("Billing", True, "the bill was wrong and no one will fix it"),
    ("Billing", True, "hidden fees, not happy"),
    ("Billing", False, "payment was easy"),
    ("Billing", False, "the invoice was clear"),
    ("Cleanliness", True, "the toilets were dirty"),
    ("Cleanliness", True, "floor was filthy and it smelt"),
    ("Cleanliness", True, "not very hygienic in the treatment room"),
    ("Cleanliness", False, "spotlessly clean"),
    ("Cleanliness", False, "clean and tidy surgery"),
    ("Online and portal", True, "the portal login never works"),
    ("Online and portal", True, "the app keeps logging me out"),
    ("Online and portal", True, "website is useless for repeat prescriptions"),
    ("Online and portal", True, "password reset email never came"),
    ("Online and portal", False, "booking online was simple"),
    ("Online and portal", False, "the app is handy"),
    ("Premises and parking", True, "parking is impossible"),
    ("Premises and parking", True, "the waiting room was freezing cold"),
    ("Premises and parking", True, "no ramp, hard with a wheelchair"),
    ("Premises and parking", True, "the lift was broken again"),
    ("Premises and parking", False, "plenty of parking"),
    ("Premises and parking", False, "comfortable seats"),
]
ES = [
    ("Wait time", True, "esperé más de una hora"),
    ("Wait time|Communication", True, "mucho retraso y nadie nos explicó nada"),
    ("Wait time", True, "una cola enorme en recepción"),
    ("Wait time", False, "sin esperar nada"),
    ("Appointments and access", True, "imposible conseguir cita"),
    ("Appointments and access", True, "me cancelaron la cita dos veces"),
    ("Appointments and access", False, "me dieron cita el mismo día"),
    ("Phone", True, "el teléfono siempre comunica y nadie contesta la llamada"),
    ("Phone", True, "llamar es una pesadilla"),
    ("Phone", False, "me atendieron la llamada enseguida"),
    ("Staff attitude", True, "la recepcionista fue muy grosera"),
    ("Staff attitude", True, "el médico fue antipático"),
    ("Staff attitude", False, "todos muy amables"),
    ("Staff attitude", False, "personal muy simpático"),
    ("Communication", True, "no me explicaron nada y no entendí los resultados"),
    ("Communication", False, "me lo explicaron todo muy bien"),
    ("Clinical care", True, "la receta estaba mal"),
    ("Clinical care", True, "el tratamiento no sirvió de nada"),
    ("Clinical care", False, "la enfermera fue excelente"),
    ("Billing", True, "me cobraron de más en la factura"),
    ("Billing", False, "el pago fue fácil"),
    ("Cleanliness", True, "los baños estaban sucios"),
    ("Cleanliness", False, "todo muy limpio"),
    ("Online and portal", True, "la aplicación no funciona"),
    ("Online and portal", False, "la página web es muy cómoda"),
    ("Premises and parking", True, "no hay donde aparcar"),
    ("Premises and parking", True, "la sala de espera estaba helada"),
    ("Premises and parking", False, "el edificio es muy cómodo"),
]
NEUTRAL = {
    "en": ["thanks", "overall ok", "will come back", "see you next time", "thank you all"],
    "es": ["gracias", "en general bien", "volveré"],
}
JOIN = {"en": [", but ", ". ", " but ", " and ", ". Also "], "es": [", pero ", ". ", " pero ", " y "]}


def build(count: int = 320, seed: int = 14) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        language = "es" if index % 10 < 3 else "en"  # about 30 % Spanish
        bank = ES if language == "es" else EN
        picked = rng.sample(bank, rng.choice([1, 1, 2, 2, 2, 3]))
        themes_of = [set(theme.split("|")) for theme, _n, _c in picked]
        if sum(len(t) for t in themes_of) > len(set().union(*themes_of)):
            picked = picked[:1]  # one clause per theme, so each comment's labels are unambiguous
        parts = [clause for _t, _n, clause in picked]
        if rng.random() < 0.2:
            parts.append(rng.choice(NEUTRAL[language]))
        text = parts[0]
        for part in parts[1:]:
            text += rng.choice(JOIN[language]) + part
        text = text[0].upper() + text[1:] + rng.choice([".", "", "!", "."])
        rows.append(
            {
                "comment": text,
                "language": language,
                "themes": ";".join(sorted(t for theme, _n, _c in picked for t in theme.split("|"))),
                "negative": ";".join(
                    sorted(t for theme, negative, _c in picked if negative for t in theme.split("|"))
                ),
            }
        )
    return rows


def main() -> None:
    with OUT.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["comment", "language", "themes", "negative"])
        writer.writeheader()
        writer.writerows(build())
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
