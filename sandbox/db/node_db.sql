-- The sandbox's application database `node_db`: a small, deterministic data set for the SQL shell
-- and its tests. Loaded as root over the socket by sandbox/db/sandboxdb.py before any user exists.
-- Same data every run (no RAND(), no NOW()).

CREATE DATABASE IF NOT EXISTS node_db CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
USE node_db;

CREATE TABLE users (
  id         INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email      VARCHAR(255) NOT NULL,
  name       VARCHAR(100) NOT NULL,
  created_at DATETIME     NOT NULL,
  active     TINYINT(1)   NOT NULL DEFAULT 1,
  UNIQUE KEY uq_users_email (email)
) ENGINE=InnoDB;

INSERT INTO users (id, email, name, created_at, active) VALUES
  (1,  'alice@example.com',   'Alice Anderson',   '2024-01-05 09:12:00', 1),
  (2,  'bob@example.com',     'Bob Brown',        '2024-01-17 14:03:21', 1),
  (3,  'carol@example.com',   'Carol Chen',       '2024-02-02 08:45:10', 1),
  (4,  'dave@example.com',    'Dave Dubois',      '2024-02-28 23:59:59', 0),
  (5,  'erin@example.com',    'Erin Eriksson',    '2024-03-11 11:11:11', 1),
  (6,  'frank@example.com',   'Frank Fischer',    '2024-04-01 00:00:00', 1),
  (7,  'grace@example.com',   'Grace Hopper',     '2024-05-20 16:30:00', 1),
  (8,  'heidi@example.com',   'Heidi Ødegård',    '2024-06-06 06:06:06', 1),
  (9,  'ivan@example.com',    'Иван Петров',      '2024-07-14 12:00:00', 0),
  (10, 'judy@example.com',    '山田 花子',         '2024-08-08 08:08:08', 1),
  (11, 'mallory@example.com', 'Mallory O''Brien', '2024-09-30 17:45:00', 1),
  (12, 'zoe@example.com',     'Zoë 🐘 Zimmer',    '2024-12-31 23:00:00', 1);

CREATE TABLE orders (
  id         INT UNSIGNED NOT NULL PRIMARY KEY,
  user_id    INT UNSIGNED NOT NULL,
  amount     DECIMAL(10,2) NOT NULL,
  status     ENUM('pending','paid','shipped','cancelled') NOT NULL,
  created_at DATETIME NOT NULL,
  note       VARCHAR(200) NULL,
  KEY idx_orders_user (user_id),
  CONSTRAINT fk_orders_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB;

-- 100 orders, spread over the users, statuses and 2024.
INSERT INTO orders (id, user_id, amount, status, created_at, note)
WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
SELECT i,
       (i * 7) % 12 + 1,
       ROUND(((i * 37) % 500) + ((i * 13) % 100) / 100 + 1, 2),
       ELT((i % 4) + 1, 'pending', 'paid', 'shipped', 'cancelled'),
       TIMESTAMP('2024-01-01 10:00:00') + INTERVAL (i * 3) DAY + INTERVAL (i * 17) MINUTE,
       CASE WHEN i % 10 = 0 THEN NULL WHEN i % 10 = 5 THEN '' ELSE CONCAT('order #', i) END
FROM n;

-- NULL versus empty string versus the text 'NULL', binary data, odd characters.
CREATE TABLE edge_cases (
  id         INT UNSIGNED NOT NULL PRIMARY KEY,
  label      VARCHAR(40)  NOT NULL,
  nullable   VARCHAR(50)  NULL,
  not_null   VARCHAR(50)  NOT NULL DEFAULT '',
  payload    BLOB         NULL,
  amount     DECIMAL(12,4) NULL,
  happened   DATETIME     NULL,
  flag       TINYINT(1)   NULL
) ENGINE=InnoDB;

INSERT INTO edge_cases (id, label, nullable, not_null, payload, amount, happened, flag) VALUES
  (1, 'all null',            NULL,        '',            NULL,                     NULL,       NULL,                  NULL),
  (2, 'empty strings',       '',          '',            '',                       0,          '1970-01-01 00:00:01', 0),
  (3, 'the text NULL',       'NULL',      'NULL',        'NULL',                   NULL,       NULL,                  1),
  (4, 'binary payload',      'bytes',     'x',           X'00010203FEFF7F80DEADBEEF', -1.5,   '2038-01-19 03:14:07', 1),
  (5, 'utf-8 blob',          'utf8',      'Zoë 🐘',      CAST('Zoë 🐘' AS BINARY),  12345678.9012, '2024-02-29 12:00:00', 0),
  (6, 'tab and newline',     'a\tb',      'line1\nline2', X'0A0D09',               0.0001,    '9999-12-31 23:59:59', NULL),
  (7, 'quotes',              'it''s "q"', 'back\\slash',  NULL,                    NULL,      NULL,                  NULL),
  (8, 'spaces',              '   ',       ' lead/trail ', X'20',                   NULL,      NULL,                  NULL);
