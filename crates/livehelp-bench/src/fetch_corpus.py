# Fetches chatterbot-corpus 1.3.3 (BSD-3) from PyPI with `pip download --no-deps`, unzips
# it and writes its dialogues as JSON for livehelp-bench. Usage: python3 fetch_corpus.py DIR
import glob, json, os, subprocess, sys, zipfile

dest = sys.argv[1]
os.makedirs(dest, exist_ok=True)
out = os.path.join(dest, "chatterbot-corpus-1.3.3.json")
if os.path.exists(out):
    print(out)
    sys.exit(0)
wheels = glob.glob(os.path.join(dest, "chatterbot_corpus-1.3.3-*.whl"))
if not wheels:
    subprocess.check_call([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                           "chatterbot-corpus==1.3.3", "-d", dest])
    wheels = glob.glob(os.path.join(dest, "chatterbot_corpus-1.3.3-*.whl"))
unpacked = os.path.join(dest, "chatterbot-corpus-1.3.3")
zipfile.ZipFile(wheels[0]).extractall(unpacked)
try:
    import yaml
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "pyyaml"])
    import yaml


def usable(line):
    return 0 < len(line) <= 10000 and line.strip() and not any(
        ord(c) < 32 and c not in "\t\n\r" for c in line)


dialogues = []
for path in sorted(glob.glob(os.path.join(unpacked, "chatterbot_corpus", "data", "*", "*.yml"))):
    with open(path, encoding="utf-8") as file:
        data = yaml.safe_load(file) or {}
    language = os.path.basename(os.path.dirname(path))
    for conversation in data.get("conversations") or []:
        if not isinstance(conversation, list):
            continue
        lines = [str(line) for line in conversation if line is not None and usable(str(line))]
        if len(lines) >= 2:
            dialogues.append({"language": language, "lines": lines})
with open(out + ".tmp", "w", encoding="utf-8") as file:
    json.dump({"source": "chatterbot-corpus==1.3.3 (BSD-3-Clause)", "dialogues": dialogues},
              file, ensure_ascii=False)
os.replace(out + ".tmp", out)
print(out)
