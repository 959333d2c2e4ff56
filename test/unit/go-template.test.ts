import test from 'ava';
import { goString, parseFormat, parseTemplate, render, tabwrite } from '../../cli/go-template.js';

const run = (src: string, data: unknown) => parseTemplate(src).execute(data);
const inspected = {
  Id: 'abc', Name: '/web', State: { Status: 'running', Running: true, Pid: 42, ExitCode: 0 },
  Config: { Env: ['A=1', 'B=2'], Cmd: ['sh', '-c', 'echo hi'], Entrypoint: null, Labels: {} },
  Mounts: [{ Source: '/a', Destination: '/x' }, { Source: '/b', Destination: '/y' }],
};

test('fields, nested fields and the dot', (t) => {
  t.is(run('{{.State.Status}}', inspected), 'running');
  t.is(run('{{.Id}} {{.Name}} pid={{.State.Pid}}', inspected), 'abc /web pid=42');
  t.is(run('{{.State.Running}}', inspected), 'true');
  t.is(run('{{.}}', 'plain'), 'plain');
  t.is(run('text only', inspected), 'text only');
});

test("values print as Go's %v of decoded JSON", (t) => {
  t.is(run('{{.Config.Cmd}}', inspected), '[sh -c echo hi]');
  t.is(run('{{.Config.Entrypoint}}', inspected), '<nil>');
  t.is(run('{{.State}}', { State: { b: 1, a: 'x' } }), 'map[a:x b:1]');
  t.is(goString([1, [2, 3]]), '[1 [2 3]]');
});

test('json of a value and of the dot, without HTML escaping', (t) => {
  t.is(run('{{json .State}}', inspected), '{"Status":"running","Running":true,"Pid":42,"ExitCode":0}');
  t.is(run('{{json .Config.Entrypoint}}', inspected), 'null');
  t.is(run('{{json .}}', { a: '<&>' }), '{"a":"<&>"}');
  t.is(run('{{.Config.Env | json}}', inspected), '["A=1","B=2"]');
});

test("docker's functions: join, split, upper, lower, title, truncate, pad, println; Go's len, index, printf, eq, not", (t) => {
  t.is(run('{{join .Config.Env ","}}', inspected), 'A=1,B=2');
  t.is(run('{{split "a:b:c" ":"}}', {}), '[a b c]');
  t.is(run('{{upper .Name}} {{lower "AbC"}} {{title "hello world"}}', inspected), '/WEB abc Hello World');
  t.is(run('{{truncate .Id 2}}|{{pad "x" 1 2}}|', inspected), 'ab| x  |');
  t.is(run('{{println "a" 1}}', {}), 'a 1\n');
  t.is(run('{{len .Mounts}} {{index .Config.Env 1}} {{index .State "Pid"}}', inspected), '2 B=2 42');
  t.is(run('{{printf "%s=%d %q" "a" 3 "b"}}', {}), 'a=3 "b"');
  t.is(run('{{eq .State.Status "running"}} {{not .State.Running}}', inspected), 'true false');
  t.is(run('{{.Name | upper}}', inspected), '/WEB');
});

test('if/else/range/end and trimming', (t) => {
  t.is(run('{{if .State.Running}}up{{else}}down{{end}}', inspected), 'up');
  t.is(run('{{if .Config.Entrypoint}}ep{{else}}no ep{{end}}', inspected), 'no ep');
  t.is(run('{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}', inspected), '/a:/x /b:/y ');
  t.is(run('{{range .Config.Labels}}x{{else}}none{{end}}', inspected), 'none');
  t.is(run('a  {{- "b" -}}  c', {}), 'abc');
  t.is(run('{{/* a comment */}}x', {}), 'x');
});

test("docker's escapes: \\t and \\n in a format are a tab and a newline", (t) => {
  t.is(run('{{.Id}}\\t{{.Name}}\\n', inspected), 'abc\t/web\n');
});

test('errors are one line naming what is wrong', (t) => {
  t.throws(() => run('{{.Nope}}', inspected), { message: 'template: map has no entry for key "Nope"' });
  t.throws(() => run('{{.State.Status.X}}', inspected), { message: /can't evaluate field X in running/ });
  t.throws(() => parseTemplate('{{.Id'), { message: /unclosed action/ });
  t.throws(() => parseTemplate('{{if .Id}}x'), { message: /without \{\{end\}\}/ });
  t.throws(() => parseTemplate('{{end}}'), { message: /\{\{end\}\} is not supported here|unexpected/ });
  t.throws(() => run('{{nofunc .Id}}', inspected), { message: 'template: function "nofunc" not defined' });
  t.throws(() => parseTemplate('{{$x := .Id}}'), { message: /variables and parentheses are not supported/ });
  t.throws(() => parseTemplate('{{with .Id}}x{{end}}'), { message: /\{\{with\}\} is not supported/ });
  for (const src of ['{{.Nope}}', '{{.Id']) {
    const err = t.throws(() => run(src, inspected));
    t.false(err!.message.includes('\n'));
  }
});

test("table: a header from the field names, columns as docker's tabwriter (min 10, padding 3)", (t) => {
  const f = parseFormat('table {{.ID}}\\t{{.Names}}\\t{{.Status}}', '');
  t.true(f.table);
  const out = render(f, [{ ID: 'abc', Names: 'a-long-name-here', Status: 'Up 1 second' }, { ID: 'd', Names: 'b', Status: 'Created' }], { ID: 'CONTAINER ID', Names: 'NAMES', Status: 'STATUS' });
  t.is(out, [
    'CONTAINER ID   NAMES              STATUS',
    'abc            a-long-name-here   Up 1 second',
    'd              b                  Created',
    '',
  ].join('\n'));
  // a field without a title gets docker's: its words upper-cased
  t.is(render(parseFormat('table {{.RunningFor}}', ''), []), 'RUNNING FOR\n');
  t.is(tabwrite(['a\tb', 'ccc\td']), 'a         b\nccc       d\n');
});

test('json is {{json .}}; a plain template is a line per item; "table" alone takes the default', (t) => {
  t.is(render(parseFormat('json', ''), [{ a: 1 }, { a: 2 }]), '{"a":1}\n{"a":2}\n');
  t.is(render(parseFormat('{{.a}}', ''), [{ a: 1 }, { a: 2 }]), '1\n2\n');
  t.is(render(parseFormat('table', '{{.a}}'), [{ a: 1 }], { a: 'A' }), 'A\n1\n');
  t.is(render(parseFormat('{{.a}}', ''), []), '');
});
