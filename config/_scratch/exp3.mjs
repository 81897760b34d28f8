import jsonata from 'jsonata';
for (const t of ["first_name &", "status = = 'x'", "$lowercase(first_name", "foo bar", "'unterminated", "a + )", "first_name & ' ' & & last_name", "a.b.[c", "$uppercase(x) @ y", "a ~ b", "status = 'active' and and x", "x]"]) {
  try { jsonata(t); console.log('OK', t); } catch (e) { console.log(JSON.stringify(t), e.code, e.position, e.token, e.message); }
}
