"""The shell: an interactive prompt with the app's models imported and the database connected.

Here `minorm shell` is fed a few lines through a pipe, as a terminal would type them.
"""

import os
import pathlib
import subprocess
import sys
import tempfile

tmp = tempfile.TemporaryDirectory()
URL = os.environ.get("MINORM_DATABASE_URL") or f"sqlite:///{tmp.name}/app.db"

APP = """
import os
import minorm

database = minorm.Database(os.environ["MINORM_DATABASE_URL"])
models = minorm.Registry(database)


class Note(minorm.Model):
    text: str = minorm.CharField(max_length=100)

    class Meta:
        registry = models
        tablename = "shell_notes"
"""

TYPED = """\
await Note.query.create(text="first")
await Note.query.create(text="second")
await Note.query.count()
[note.text for note in await Note.query.filter(Q(text__startswith="s")).all()]
"""

pathlib.Path(tmp.name, "app.py").write_text(APP)
env = {**os.environ, "MINORM_DATABASE_URL": URL, "PYTHONPATH": tmp.name}
setup = "import asyncio, app; asyncio.run(app.models.create_all())"
subprocess.run([sys.executable, "-c", setup], env=env, check=True)

# `minorm shell` finds the app (app.py here) and connects its database.
minorm = pathlib.Path(sys.executable).parent / "minorm"
done = subprocess.run(
    [str(minorm), "shell", "--kernel", "python"],
    input=TYPED,
    env=env,
    cwd=tmp.name,
    capture_output=True,
    text=True,
)
print(done.stderr.strip())  # the banner (and any traceback) go to stderr
print(done.stdout.strip())
assert done.returncode == 0
assert ">>> 2" in done.stdout
assert "['second']" in done.stdout

teardown = "import asyncio, app; asyncio.run(app.models.drop_all())"
subprocess.run([sys.executable, "-c", teardown], env=env, check=True)

# expect: minorm shell on
# expect: Models: Note. Also: registry, database, databases, Q.
# expect: >>> Note(id=1, text='first')
# expect: >>> 2
# expect: >>> ['second']
