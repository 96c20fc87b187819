"""Better default keywords, tuned on the labelled comments of tests/load/themes_eval.csv.

Only themes still holding the keywords the first migration seeded are changed: a practice's own
edits are kept. ``python -m tests.load.bench_themes`` reads THEMES from here and prints how well
they find each theme.
"""

from importlib import import_module

from django.db import migrations, models

THEMES = {
    "Wait time": (
        "wait*\n-waiting room\n-waiting area\nlate\nrunning behind\ndelay*\nqueue*\nhour\nan hour\nhours\n"
        "mins\nminutes\nkept waiting\nages\non time\nesper*\n-sala de espera\nretraso\ncola"
    ),
    "Appointments and access": (
        "appointment*\n-appointment time\n-minute appointment\nbook*\nslot*\nsame day\nurgent*\nsee a doctor\n"
        "availab*\ncita*\nconsulta*"
    ),
    "Phone": (
        "phone*\ncall*\nline\nengaged\non hold\ncut off\nteléfono\nllamada*\nllamar\ncomunica\ncontesta*"
    ),
    "Staff attitude": (
        "rude*\nfriendly\nunfriendly\nkind\npolite\nimpolite\nhelpful\nunhelpful\ndismissive\nattitude\n"
        "courteous\nreceptionist*\nreception team\nfront desk\nnuisance\nstaff\namable*\ngroser*\n"
        "maleducad*\nsimpátic*\nantipátic*\npersonal"
    ),
    "Communication": (
        "explain*\nlisten*\ninformed\ninformation\nunderstand*\nconfus*\nnobody told\nkept informed\n"
        "jargon\nexplic*\nescuch*\ninformación\nentend*"
    ),
    "Clinical care": (
        "treatment*\n-treatment room\ndiagnos*\nprescription*\n-repeat prescription*\nmedication*\ncare\n"
        "examin*\ntest results\nunwell\nnurse was\ntratamiento*\nreceta*\nenfermera fue"
    ),
    "Billing": (
        "bill\nbills\nbilling\ncharge*\ninvoice*\npayment*\npaid\ncost*\nfee*\ninsurance\nfactura*\npago*\n"
        "cobr*"
    ),
    "Cleanliness": "clean*\ndirty\nfilthy\ntoilet*\nhygien*\nsmell*\nsmelt\ndust*\nlimpi*\nsuci*\nbaño*",
    "Online and portal": (
        "online\nportal\nthe app\napp\nwebsite\nlog in\nlogin\nlogging\npassword\nemail*\ntext message*\n"
        "sms\nen línea\naplicación\npágina web"
    ),
    "Premises and parking": (
        "parking\ncar park\nbuilding\nwaiting room\nseat*\nstairs\nlift\nramp\nwheelchair*\ncold\nfreezing\n"
        "aparca*\nedificio\nsala de espera\nsilla de ruedas\nhelad*"
    ),
}


def update(apps, schema_editor):
    Theme = apps.get_model("feedback", "Theme")
    seeded = import_module("feedback.migrations.0003_seed_themes").THEMES  # what 0003 wrote
    for name, keywords in THEMES.items():
        Theme.objects.filter(name=name, keywords=seeded.get(name)).update(keywords=keywords)


class Migration(migrations.Migration):
    dependencies = [("feedback", "0012_theme_mentions_per_comment")]

    operations = [
        migrations.AlterField(
            model_name="theme",
            name="keywords",
            field=models.TextField(
                help_text=(
                    "One per line. A comment containing any of them (whole words, any case) gets this theme. "
                    "End a word with * to match any ending: wait* finds waiting and waited. Start a line with - "
                    "for a phrase that does not count: -waiting room. Add Spanish words too."
                ),
                verbose_name="keywords and phrases",
            ),
        ),
        migrations.RunPython(update, migrations.RunPython.noop),
    ]
