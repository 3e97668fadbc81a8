throw new Error('sqlite3 is stubbed out in xtask/js (the vector generator does not use a database)')
