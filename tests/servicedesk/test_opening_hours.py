"""The practice's opening hours: the clock SLA promises can run on, and the page that sets them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from servicedesk.models import ClosedDay, OpeningHours
from servicedesk.opening_hours import ALWAYS_OPEN, OpeningClock

LONDON = ZoneInfo("Europe/London")
WEEKDAYS_8_TO_6 = OpeningClock({day: (time(8), time(18)) for day in range(5)})


def at(day: int, hour: int, minute: int = 0, *, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LONDON)


# --- The clock -------------------------------------------------------------------------------------


def test_with_no_opening_hours_every_hour_counts():
    friday_5pm = at(6, 17)
    assert ALWAYS_OPEN.add(friday_5pm, timedelta(hours=4)) == at(6, 21)
    assert ALWAYS_OPEN.between(friday_5pm, at(9, 9)) == timedelta(hours=64)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (at(2, 9), 4, at(2, 13)),  # Monday morning: the same day
        (at(6, 17), 4, at(9, 11)),  # Friday 5 pm: one hour on Friday, three on Monday
        (at(7, 10), 4, at(9, 12)),  # logged on Saturday: the clock starts on Monday
        (at(2, 6), 2, at(2, 10)),  # before opening: from 8 am
        (at(2, 20), 1, at(3, 9)),  # after closing: from the next morning
        (at(2, 9), 25, at(4, 14)),  # 9 h on Monday, 10 on Tuesday, 6 on Wednesday
        (at(6, 18), 1, at(9, 9)),  # exactly at closing time
    ],
)
def test_a_promise_in_opening_hours_falls_due_after_that_much_open_time(start, hours, due):
    assert WEEKDAYS_8_TO_6.add(start, timedelta(hours=hours)) == due


def test_no_time_after_a_deadline_is_the_deadline_itself_even_when_closed():
    assert WEEKDAYS_8_TO_6.add(at(7, 23), timedelta(0)) == at(7, 23)


def test_open_time_between_two_moments_skips_nights_and_weekends():
    assert WEEKDAYS_8_TO_6.between(at(6, 17), at(9, 9)) == timedelta(hours=2)
    assert WEEKDAYS_8_TO_6.between(at(7, 9), at(8, 17)) == timedelta(0)  # a weekend
    assert WEEKDAYS_8_TO_6.between(at(2, 9), at(2, 8)) == timedelta(0)  # backwards
    assert WEEKDAYS_8_TO_6.between(at(2, 0), at(9, 0)) == timedelta(hours=50)  # a whole week


def test_the_clock_follows_the_clocks_changing():
    # British Summer Time starts at 1 am on Sunday 29 March 2026: Monday opens at 8 am BST.
    assert WEEKDAYS_8_TO_6.add(at(27, 17), timedelta(hours=4)) == at(30, 11)
    assert WEEKDAYS_8_TO_6.between(at(27, 17), at(30, 9)) == timedelta(hours=2)


@pytest.mark.django_db
def test_the_current_clock_reads_the_practices_hours():
    OpeningHours.objects.create(weekday=OpeningHours.Weekday.SATURDAY, opens=time(9), closes=time(12))
    clock = OpeningClock.current()
    assert clock.hours == {5: (time(9), time(12))}
    assert clock.add(at(6, 17), timedelta(hours=1)) == at(7, 10)


# --- The page --------------------------------------------------------------------------------------

URL = reverse("opening_hours")


def week(**days: tuple[str, str] | None) -> dict[str, str]:
    """The page's form data: Monday to Friday 8:00-18:30 unless a day (mon, tue, …) says otherwise."""
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    data = {
        "days-TOTAL_FORMS": "7",
        "days-INITIAL_FORMS": "7",
        "days-MIN_NUM_FORMS": "7",
        "days-MAX_NUM_FORMS": "7",
    }
    for n, name in enumerate(names):
        hours = days.get(name, ("08:00", "18:30") if n < 5 else None)
        data[f"days-{n}-weekday"] = str(n)
        if hours is not None:
            data[f"days-{n}-is_open"] = "on"
            data[f"days-{n}-opens"], data[f"days-{n}-closes"] = hours
    return data


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_staff_can_neither_see_nor_change_the_opening_hours(staff_client):
    assert staff_client.get(URL).status_code == 403
    assert staff_client.post(URL, week()).status_code == 403
    assert not OpeningHours.objects.exists()


def test_a_manager_sets_the_week_and_sees_it_again(manager_client):
    page = manager_client.get(URL)
    assert page.status_code == 200
    # The default policies for high, medium and low incidents count opening hours (recovery 0009).
    assert "Counting opening hours only:" in page.content.decode()

    response = manager_client.post(URL, week(sat=("09:00", "12:00")), follow=True)

    assert response.redirect_chain[-1][0] == URL
    assert "Saved the opening hours." in response.content.decode()
    assert [str(row) for row in OpeningHours.objects.all()] == [
        *(f"{day} 08:00 to 18:30" for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")),
        "Saturday 09:00 to 12:00",
    ]
    assert 'value="09:00"' in response.content.decode()

    manager_client.post(URL, week(mon=None))
    assert not OpeningHours.objects.filter(weekday=0).exists(), "unticking Open closes the day"


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ({"tue": ("18:00", "08:00")}, "Closing time must be after opening time."),
        ({"wed": ("08:00", "")}, "Say when the practice closes, or untick Open."),
        ({"thu": ("25:00", "18:00")}, "Enter a valid time."),
    ],
)
def test_impossible_hours_are_refused_with_a_message_and_nothing_changes(manager_client, days, message):
    OpeningHours.objects.create(weekday=0, opens=time(9), closes=time(17))

    response = manager_client.post(URL, week(**days))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert [str(row) for row in OpeningHours.objects.all()] == ["Monday 09:00 to 17:00"]


def test_a_forged_week_is_refused(manager_client):
    data = week()
    data["days-3-weekday"] = "2"  # Wednesday twice, no Thursday
    response = manager_client.post(URL, data)
    assert response.status_code == 400
    assert "Give every day of the week once" in response.content.decode()
    assert not OpeningHours.objects.exists()


# --- Closed days -----------------------------------------------------------------------------------


def test_a_bank_holiday_stops_the_clock_for_the_whole_day():
    easter_monday = at(6, 0, month=4).date()
    clock = OpeningClock(WEEKDAYS_8_TO_6.hours, frozenset({easter_monday, at(3, 0, month=4).date()}))
    maundy_thursday_5pm = at(2, 17, month=4)
    # One hour on Thursday; Good Friday, the weekend and Easter Monday are closed; three on Tuesday.
    assert clock.add(maundy_thursday_5pm, timedelta(hours=4)) == at(7, 11, month=4)
    assert clock.between(maundy_thursday_5pm, at(7, 9, month=4)) == timedelta(hours=2)


@pytest.mark.django_db
def test_the_current_clock_knows_the_closed_days():
    from servicedesk.models import ClosedDay

    OpeningHours.objects.bulk_create(
        OpeningHours(weekday=d, opens=time(8), closes=time(18)) for d in range(5)
    )
    ClosedDay.objects.create(date=at(9, 0).date(), reason="Staff training")
    assert OpeningClock.current().add(at(6, 17), timedelta(hours=2)) == at(10, 9)


def test_a_manager_marks_a_bank_holiday_and_takes_it_back(manager_client):
    from servicedesk.models import ClosedDay

    day = (timezone.localdate() + timedelta(days=10)).isoformat()
    response = manager_client.post(
        reverse("closed_day_add"), {"date": day, "reason": "Bank holiday"}, follow=True
    )
    assert "The practice is closed on" in response.content.decode()
    assert "Bank holiday" in response.content.decode()
    closed = ClosedDay.objects.get()

    again = manager_client.post(reverse("closed_day_add"), {"date": day, "reason": "Twice"})
    assert again.status_code == 400
    assert "That day is already marked as closed." in again.content.decode()
    blank = manager_client.post(reverse("closed_day_add"), {"date": "", "reason": ""})
    assert blank.status_code == 400
    assert ClosedDay.objects.count() == 1

    response = manager_client.post(
        reverse("closed_day_remove", args=[closed.pk]), {"confirmed": "yes"}, follow=True
    )
    assert "opens as usual" in response.content.decode()
    assert not ClosedDay.objects.exists()
    assert (
        manager_client.post(reverse("closed_day_remove", args=[closed.pk]), {"confirmed": "yes"}).status_code
        == 404
    )


def test_staff_cannot_close_the_practice(staff_client):
    from servicedesk.models import ClosedDay

    closed = ClosedDay.objects.create(date=timezone.localdate(), reason="Training")
    assert (
        staff_client.post(reverse("closed_day_add"), {"date": "2026-12-25", "reason": "Xmas"}).status_code
        == 403
    )
    assert staff_client.post(reverse("closed_day_remove", args=[closed.pk])).status_code == 403
    assert list(ClosedDay.objects.all()) == [closed]


@pytest.mark.parametrize(
    ("day", "message"),
    [("0001-01-01", "a day to come"), ("2019-01-01", "a day to come"), ("2099-12-25", "within the next")],
)
def test_a_closed_day_that_could_never_be_seen_again_is_refused_with_a_reason(manager_client, day, message):
    response = manager_client.post(reverse("closed_day_add"), {"date": day, "reason": "Typo"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ClosedDay.objects.exists()


def test_a_day_stored_in_year_0001_is_listed_so_it_can_be_removed(manager_client):
    """Stored before the form had bounds, it was never shown again, so it could not be removed."""
    from servicedesk.models import ClosedDay

    stray = ClosedDay.objects.create(date=date(1, 1, 1), reason="Typo")
    page = manager_client.get(reverse("opening_hours")).content.decode()
    assert "Days long past" in page
    assert "January 0001" in page
    url = reverse("closed_day_remove", args=[stray.pk])
    assert f'action="{url}"' in page
    manager_client.post(url, {"confirmed": "yes"})
    assert not ClosedDay.objects.exists()
