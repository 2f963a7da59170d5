-- Reserved for another branch's migration (the lead renumbers at merge); applies nothing.
SELECT 1;
