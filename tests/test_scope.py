"""agent/scope.py: requests the platform cannot build are answered before any model call."""

import pytest
from typer.testing import CliRunner

from appwright.agent.scope import out_of_scope
from appwright.cli import app
from appwright.tasks.bank import TaskBank

CANNOT = [
    ("a shop where customers pay by card for my candles", "take payments"),
    ("a booking page that takes payments with Stripe", "take payments"),
    ("let people upload a photo of their dog", "store uploaded files"),
    ("a job board where applicants attach a PDF of their CV", "store uploaded files"),
    ("a reminders app that sends me an email every morning", "send email"),
    ("a club roster with SMS alerts when practice moves", "send email"),
]
FINE = [
    "a budget tracker where I record the payments I make each month",
    "a contacts list with a name, an email field and a phone number",
    "a photo gallery where each photo is a link with a caption",
    "a todo list",
    "a page to plan the text of my wedding speech",
    "a reading list: title, author, and whether I finished it",
]
OTHER_LANGUAGES = [
    "una aplicación para mis recetas donde puedo guardar cada receta con sus ingredientes",
    "une application pour noter mes lectures avec le titre et l'auteur de chaque livre",
    "eine App für meine Aufgaben, in der ich jede Aufgabe mit einem Datum speichern kann",
    "un'app per le mie ricette, con gli ingredienti di ogni ricetta",
    "um aplicativo para os meus livros, com o autor de cada livro e uma nota",
    "een app voor mijn boeken waar ik elke titel en de schrijver bewaar",
    "一个记录我读过的书的应用，每本书有标题和作者",
    "приложение для списка моих книг с автором и оценкой",
]


@pytest.mark.parametrize("prompt,why", CANNOT)
def test_a_feature_the_runtime_lacks_is_named(prompt, why):
    said = out_of_scope(prompt)
    assert said and why in said and "nothing was built" in said


@pytest.mark.parametrize("prompt", FINE)
def test_requests_that_only_name_such_things_are_built(prompt):
    assert out_of_scope(prompt, english_only=True) is None


@pytest.mark.parametrize("prompt", OTHER_LANGUAGES)
def test_another_language_is_answered_for_the_embedded_models(prompt):
    assert "in English" in out_of_scope(prompt, english_only=True)
    assert out_of_scope(prompt) is None  # a model that knows the language gets it


def test_no_prompt_of_the_task_bank_is_refused():
    refused = [(t.id, out_of_scope(t.prompt, english_only=True)) for t in TaskBank.default().tasks
               if out_of_scope(t.prompt, english_only=True)]
    assert refused == []


def test_new_answers_before_loading_a_model(tmp_path, monkeypatch):
    def no_model(*a, **k):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr("appwright.build.load_backend", no_model)
    out = tmp_path / "shop"
    done = CliRunner().invoke(app, ["new", "a candle shop that takes payments by credit card", "--out", str(out)])
    assert done.exit_code == 2 and "cannot take payments" in done.output and "Traceback" not in done.output
    assert not out.exists()
    done = CliRunner().invoke(app, ["new", "une application pour mes recettes avec les ingrédients de chaque recette",
                                    "--out", str(out)])
    assert done.exit_code == 2 and "in English" in done.output and not out.exists()
