/**
 * Secrets as real logs leak them, and look-alikes that must stay: the redact processor's case
 * table, shared by its unit test (each text as a body and as an attribute) and the test that
 * sends each text through every shipped example config to an OTLP backend.
 *
 * Each row: the text, the text as it must leave with the default config (`***` for the mask),
 * and the secret substrings that must not leave at all.
 */
export interface RedactCase {
  name: string;
  text: string;
  masked: string;
  secrets: string[];
}

export const SECRET_CASES: RedactCase[] = [
  // Credentials in URLs: the password only, the rest of the URL stays.
  { name: 'postgres URL', text: 'connecting to postgres://u:PASSpg0001@host/db', masked: 'connecting to postgres://u:***@host/db', secrets: ['PASSpg0001'] },
  {
    name: 'Heroku Postgres URL with port',
    text: 'DATABASE_URL=postgres://ufk2:p8a7c1e0d3b2a1f0e9@ec2-3-217-1-1.compute-1.amazonaws.com:5432/d9q8',
    masked: 'DATABASE_URL=postgres://ufk2:***@ec2-3-217-1-1.compute-1.amazonaws.com:5432/d9q8',
    secrets: ['p8a7c1e0d3b2a1f0e9'],
  },
  { name: 'redis URL without user', text: 'Redis connect redis://:PASSredis0002@ec2-1-2-3-4.compute-1.amazonaws.com:6379 failed', masked: 'Redis connect redis://:***@ec2-1-2-3-4.compute-1.amazonaws.com:6379 failed', secrets: ['PASSredis0002'] },
  { name: 'amqps URL', text: 'broker amqps://user:PASSamqp0003@rabbit.cloudamqp.com/vhost', masked: 'broker amqps://user:***@rabbit.cloudamqp.com/vhost', secrets: ['PASSamqp0003'] },
  { name: 'any scheme, quoted in JSON', text: '{"dsn":"mysql2://app:PASSmysql0004@db.example.com/shop","ok":true}', masked: '{"dsn":"mysql2://app:***@db.example.com/shop","ok":true}', secrets: ['PASSmysql0004'] },
  // Authorization values: the scheme word stays, the credential goes.
  { name: 'Authorization: Bearer header', text: 'request headers Authorization: Bearer abcTOKEN0005xyz.part Accept: */*', masked: 'request headers Authorization: Bearer *** Accept: */*', secrets: ['abcTOKEN0005xyz'] },
  { name: 'Authorization: Basic header', text: 'Authorization: Basic dXNlcjpQQVNTYmFzaWMwMDA2', masked: 'Authorization: Basic ***', secrets: ['dXNlcjpQQVNTYmFzaWMwMDA2'] },
  { name: 'authorization= logfmt, unquoted', text: 'at=info authorization=Bearer TOKENlogfmt0007 status=200', masked: 'at=info authorization=Bearer *** status=200', secrets: ['TOKENlogfmt0007'] },
  { name: 'authorization= logfmt, quoted', text: 'at=info authorization="Basic QkFTSUNxdW90ZWQ4" status=401', masked: 'at=info authorization="Basic ***" status=401', secrets: ['QkFTSUNxdW90ZWQ4'] },
  { name: 'bare Bearer credential', text: 'retrying with Bearer TOKENbare0009abc', masked: 'retrying with Bearer ***', secrets: ['TOKENbare0009abc'] },
  // key: value and key = "value".
  { name: 'x-api-key header', text: 'x-api-key: KEYheader0010', masked: 'x-api-key: ***', secrets: ['KEYheader0010'] },
  { name: 'password: colon form', text: 'login failed password: PASScolon0011 for bob', masked: 'login failed password: *** for bob', secrets: ['PASScolon0011'] },
  { name: 'api_key = "..." with spaces', text: 'config api_key = "sk_live_51HqLyjWDarjtT1zdp7dc0012"', masked: 'config api_key = "***"', secrets: ['51HqLyjWDarjtT1zdp7dc0012'] },
  { name: 'key="value"', text: 'client_secret="SECRETquoted0013" region=eu', masked: 'client_secret="***" region=eu', secrets: ['SECRETquoted0013'] },
  { name: "key: 'value'", text: "auth_token: 'TOKENsingle0014' user: 'bob'", masked: "auth_token: '***' user: 'bob'", secrets: ['TOKENsingle0014'] },
  { name: 'Python dict repr', text: "params={'username': 'bob', 'password': 'PASSrepr0015'}", masked: "params={'username': 'bob', 'password': '***'}", secrets: ['PASSrepr0015'] },
  { name: 'Ruby hash (Rails params)', text: 'Parameters: {"user"=>{"email"=>"bob", "password"=>"PASSruby0016"}}', masked: 'Parameters: {"user"=>{"email"=>"bob", "password"=>"***"}}', secrets: ['PASSruby0016'] },
  { name: 'Cookie header', text: 'Cookie: _app_session=COOKIEval0017; theme=dark', masked: 'Cookie: ***; theme=dark', secrets: ['COOKIEval0017'] },
  // Nested JSON at any depth, and JSON inside a JSON string.
  {
    name: 'nested JSON headers',
    text: '{"msg":"outgoing","headers":{"authorization":"Bearer TOKENnested0018","accept":"*/*"}}',
    masked: '{"msg":"outgoing","headers":{"authorization":"Bearer ***","accept":"*/*"}}',
    secrets: ['TOKENnested0018'],
  },
  { name: 'deep JSON password', text: '{"a":{"b":{"c":[{"password":"PASSdeep0019"}]}}}', masked: '{"a":{"b":{"c":[{"password":"***"}]}}}', secrets: ['PASSdeep0019'] },
  { name: 'JSON inside a JSON string', text: '{"msg":"payload {\\"password\\":\\"PASSescaped0020\\"}"}', masked: '{"msg":"payload {\\"password\\":\\"***\\"}"}', secrets: ['PASSescaped0020'] },
  // Rails-style bracketed form keys.
  {
    name: 'Rails form keys in a path',
    text: 'Started GET "/users/sign_in?user[email]=bob&user[password]=PASSrails0021&commit=Log+in" for 1.2.3.4',
    masked: 'Started GET "/users/sign_in?user[email]=bob&user[password]=***&commit=Log+in" for 1.2.3.4',
    secrets: ['PASSrails0021'],
  },
  { name: 'percent-encoded form keys', text: 'query user%5Bpassword%5D=PASSpct0022&user%5Bremember_me%5D=1', masked: 'query user%5Bpassword%5D=***&user%5Bremember_me%5D=1', secrets: ['PASSpct0022'] },
  // Token shapes, whatever the key.
  { name: 'Stripe secret key', text: 'charging with sk_live_4eC39HqLyjWDarjtT1zdp7dc23 now', masked: 'charging with *** now', secrets: ['4eC39HqLyjWDarjtT1zdp7dc23'] },
  { name: 'Stripe restricted key', text: 'key rk_live_51Abcdefghijklmnop0024', masked: 'key ***', secrets: ['51Abcdefghijklmnop0024'] },
  {
    name: 'GitHub token as URL user',
    text: 'cloning https://ghp_abcdefghijklmnopqrstuvwxyz0123450025@github.com/org/repo.git',
    masked: 'cloning https://***@github.com/org/repo.git',
    secrets: ['abcdefghijklmnopqrstuvwxyz0123450025'],
  },
  { name: 'GitHub OAuth token', text: 'gh auth gho_16C7e42F292c6912E7710c838347Ae178B4a0026 ok', masked: 'gh auth *** ok', secrets: ['16C7e42F292c6912E7710c838347Ae178B4a0026'] },
  { name: 'GitHub fine-grained token', text: 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0027', masked: '***', secrets: ['11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0027'] },
  { name: 'AWS access key id', text: 'using AKIAIOSFODNN7EX00028 for s3', masked: 'using *** for s3', secrets: ['AKIAIOSFODNN7EX00028'] },
  { name: 'Slack bot token', text: 'slack xoxb-123456789012-1234567890123-ABCdefGHIjkl0029 posted', masked: 'slack *** posted', secrets: ['ABCdefGHIjkl0029'] },
  {
    name: 'JWT',
    text: 'verified eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U for bob',
    masked: 'verified *** for bob',
    secrets: ['eyJzdWIiOiIxMjM0NTY3ODkwIn0', 'dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'],
  },
  // The existing forms stay masked.
  { name: 'query token', text: 'GET /reset?token=TOKENquery0031&page=2', masked: 'GET /reset?token=***&page=2', secrets: ['TOKENquery0031'] },
];

/** Look-alikes: they leave as they came. */
export const PLAIN_CASES: string[] = [
  'password_reset_sent=true user_id=42',
  'token_valid=false session=null',
  'GET https://example.com/docs?page=2&sort=asc 200',
  'mail sent to bob@example.com about https://user@example.com/profile',
  'Basic plan selected by author=ann',
  'at=info method=GET path="/users/sign_in" host=shop.example.com status=200',
  '12:30:45 session started; signal=SIGTERM at 2024-05-01T12:00:00Z',
  '{"msg":"login","user":{"email":"bob@example.com","password":""},"retry":true}',
  'desk_live_notes and ghp_short and eyJonly',
  'C:/app/config and ::1 and a==b and x => y',
];
