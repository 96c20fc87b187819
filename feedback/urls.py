from django.urls import path

from feedback.views import answer, manage, results

app_name = "feedback"

urlpatterns = [
    # The survey builder (managers).
    path("surveys/", manage.SurveyListView.as_view(), name="survey_list"),
    path("surveys/new/", manage.SurveyCreateView.as_view(), name="survey_create"),
    path("surveys/new/from-template/", manage.survey_from_template, name="survey_from_template"),
    path("surveys/<int:pk>/", manage.survey_builder, name="survey_builder"),
    path("surveys/<int:pk>/edit/", manage.SurveyUpdateView.as_view(), name="survey_update"),
    path("surveys/<int:pk>/active/", manage.survey_set_active, name="survey_set_active"),
    path("surveys/<int:pk>/preview/", manage.survey_preview, name="survey_preview"),
    path("surveys/<int:pk>/poster/", manage.survey_poster, name="survey_poster"),
    path("surveys/<int:pk>/questions/new/", manage.question_create, name="question_create"),
    path("questions/<int:pk>/edit/", manage.question_update, name="question_update"),
    path("questions/<int:pk>/remove/", manage.question_remove, name="question_remove"),
    path("questions/<int:pk>/move/", manage.question_move, name="question_move"),
    path("themes/", manage.ThemeListView.as_view(), name="theme_list"),
    path("themes/new/", manage.ThemeCreateView.as_view(), name="theme_create"),
    path("themes/<int:pk>/edit/", manage.ThemeUpdateView.as_view(), name="theme_update"),
    # What patients said (managers).
    path("surveys/<int:pk>/results/", results.survey_results, name="survey_results"),
    path("surveys/<int:pk>/export.csv", results.survey_export, name="survey_export"),
    path("responses/", results.response_list, name="response_list"),
    path("responses/<int:pk>/", results.response_detail, name="response_detail"),
    path("comments/<int:pk>/themes/", results.answer_themes, name="answer_themes"),
    # Staff pulse (any team member; anonymous).
    path("pulse/<slug:slug>/", answer.pulse, name="pulse"),
    path("pulse/<slug:slug>/thanks/", answer.pulse_thanks, name="pulse_thanks"),
]
