import pytest

from keras_s2s import cli


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert "keras-s2s" in capsys.readouterr().out
    assert cli.main([]) == 0
    assert "demo" in capsys.readouterr().out


def test_demo_help_lists_its_options(capsys):
    with pytest.raises(SystemExit):
        cli.main(["demo", "--help"])
    out = capsys.readouterr().out
    assert "--logdir" in out and "--epochs" in out


def test_unknown_subcommand_fails_clearly(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["trian"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_bench_help(capsys):
    with pytest.raises(SystemExit):
        cli.main(["bench", "--help"])
    out = capsys.readouterr().out
    assert "decode" in out and "--json" in out
