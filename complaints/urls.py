from django.urls import path

from complaints import letter_views, public, views

app_name = "complaints"

urlpatterns = [
    path("", views.complaint_list, name="complaint_list"),
    path("new/", views.complaint_record, name="complaint_record"),
    path("return/", views.complaints_return, name="complaints_return"),
    path("letters/", letter_views.letter_template_list, name="letter_template_list"),
    path("letters/<int:pk>/edit/", letter_views.letter_template_edit, name="letter_template_edit"),
    # Public: a patient makes a complaint here (no login).
    path("tell-us/", public.tell_us, name="tell_us"),
    path("tell-us/thanks/", public.tell_us_thanks, name="tell_us_thanks"),
    path("<str:reference>/", views.complaint_detail, name="complaint_detail"),
    path("<str:reference>/acknowledge/", views.complaint_acknowledge, name="complaint_acknowledge"),
    path("<str:reference>/subject/", views.complaint_subject, name="complaint_subject"),
    path("<str:reference>/agree/", views.complaint_agree, name="complaint_agree"),
    path("<str:reference>/extend/", views.complaint_extend, name="complaint_extend"),
    path("<str:reference>/respond/", views.complaint_respond, name="complaint_respond"),
    path("<str:reference>/letters/<str:kind>/", letter_views.complaint_letter, name="complaint_letter"),
    path(
        "<str:reference>/letters/<str:kind>/email/",
        letter_views.complaint_letter_email,
        name="complaint_letter_email",
    ),
    path(
        "<str:reference>/letters/<str:kind>/posted/",
        letter_views.complaint_letter_posted,
        name="complaint_letter_posted",
    ),
]
