"""The starting theme list. Managers edit it afterwards; this never overwrites their changes."""

from django.db import migrations

THEMES = {
    "Wait time": "wait*\nlate\ndelay*\nqueue*\nhour*\nminutes\nkept waiting\nesper*\nretraso\ncola",
    "Appointments and access": (
        "appointment*\nbook*\nslot*\nsame day\nurgent*\nsee a doctor\navailab*\ncita*\nconsulta*"
    ),
    "Phone": "phone*\ncall*\nline\nengaged\non hold\nteléfono\nllamada*\nllamar",
    "Staff attitude": (
        "rude*\nfriendly\nunfriendly\nkind\npolite\nimpolite\nhelpful\nunhelpful\ndismissive\nattitude\n"
        "courteous\nreceptionist*\namable*\ngroser*\nmaleducad*\nsimpátic*\nantipátic*"
    ),
    "Communication": (
        "explain*\nlisten*\ninformed\ninformation\nunderstand*\nconfus*\nnobody told\nkept informed\n"
        "explic*\nescuch*\ninformación\nentend*"
    ),
    "Clinical care": (
        "doctor*\nnurse*\ngp\ntreatment*\ndiagnos*\nprescription*\nmedication*\ncare\nexamin*\n"
        "test results\nmédic*\nenfermer*\ntratamiento*\nreceta*"
    ),
    "Billing": "bill\nbills\nbilling\ncharge*\ninvoice*\npayment*\npaid\ncost*\nfee*\ninsurance\nfactura*\npago*\ncobr*",
    "Cleanliness": "clean*\ndirty\ntoilet*\nhygien*\nsmell*\ndust*\nlimpi*\nsuci*\nbaño*",
    "Online and portal": (
        "online\nportal\nthe app\nwebsite\nlog in\nlogin\npassword\nemail*\ntext message*\nsms\n"
        "en línea\naplicación\npágina web"
    ),
    "Premises and parking": (
        "parking\ncar park\nbuilding\nwaiting room\nseat*\nstairs\nlift\nramp\nwheelchair*\ncold\n"
        "aparca*\nedificio\nsala de espera\nsilla de ruedas"
    ),
}


def seed_themes(apps, schema_editor):
    Theme = apps.get_model("feedback", "Theme")
    for name, keywords in THEMES.items():
        Theme.objects.get_or_create(name=name, defaults={"keywords": keywords})


class Migration(migrations.Migration):
    dependencies = [("feedback", "0002_need_profile")]

    operations = [migrations.RunPython(seed_themes, migrations.RunPython.noop)]
