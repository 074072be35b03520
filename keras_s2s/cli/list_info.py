"""`keras-s2s list` (the zoo table) and `keras-s2s info` (one entry's spec)."""

from keras_s2s.cli._common import CliError


def add_parser(subparsers):
    p = subparsers.add_parser("list", help="print the zoo table")
    p.add_argument("pattern", nargs="?", help="fnmatch pattern, e.g. 'luong_*'")
    p.set_defaults(func=run_list)

    p = subparsers.add_parser("info", help="print an entry's spec, defaults and paper")
    p.add_argument("name")
    p.set_defaults(func=run_info)


def run_list(args):
    from keras_s2s import kinds, zoo

    names = zoo.list_models(args.pattern)
    if not names:
        raise CliError(f"no zoo entry matches '{args.pattern}' (try `keras-s2s list`)")
    header = ("name", "kind", "family", "parameters")
    rows = []
    for name in names:
        spec = zoo.get_spec(name)
        params = zoo.build(name, **kinds.get(spec.kind).size_arguments(1000)).count_params()
        rows.append((name, spec.kind, spec.family, f"{params:,}", spec.summary))
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]

    def line(cells, summary):
        left = "  ".join(f"{c:<{w}}" for c, w in zip(cells[:-1], widths))
        return f"{left}  {cells[-1]:>{widths[-1]}}  {summary}"

    print(line(header, "summary"))
    for row in rows:
        print(line(row[:-1], row[-1]))
    shown = sorted({zoo.get_spec(n).kind for n in names})
    sizes = sorted({kinds.get(k).size_description(1000) for k in shown})
    print(f"({len(rows)} entries; parameters at the default size, {'; '.join(sizes)}; "
          f"kinds: {', '.join(f'{k} = {kinds.get(k).summary}' for k in shown)})")
    return 0


def run_info(args):
    from keras_s2s import kinds, zoo

    spec = zoo.get_spec(args.name)
    kind = kinds.get(spec.kind)
    print(f"{spec.name}: {spec.summary}")
    print(f"kind:     {spec.kind} (inputs: {', '.join(i.name for i in kind.inputs)}): "
          f"{kind.summary}")
    print(f"family:   {spec.family}")
    print(f"paper:    {spec.paper}")
    print("defaults:")
    for key, value in spec.defaults.items():
        print(f"  {key} = {value!r}")
    print("recommended training:")
    for key, value in spec.training.items():
        print(f"  {key} = {value!r}")
    print(f"model card: zoo/{spec.name}.md")
    return 0
